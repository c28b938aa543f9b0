//! The function catalogue: which functions exist in which template version, which are
//! condition functions, which were removed (and the hint Heat gives).
//! OWNER: expression helper.
