//! An example resource provider for heat: `Example::Local::File` manages a real file in a
//! directory. It is small enough to read in one sitting and follows the whole provider
//! contract of [`heat_core::engine::ResourceProvider`], so it doubles as a guide for writing
//! your own provider crate.
//!
//! ```yaml
//! resources:
//!   hello:
//!     type: Example::Local::File
//!     properties:
//!       path: greetings/hello.txt     # relative, stays inside the directory; replaced on change
//!       content: Hello from heat      # default ""; updated in place
//!       mode: 420                     # 0o644; optional; updated in place
//! outputs:
//!   checksum:
//!     value: {get_attr: [hello, sha256]}   # also: size, path
//! ```
//!
//! # Writing a provider, step by step
//!
//! **1. Declare the schema.** [`ResourceProvider::schema`] returns a [`ResourceSchema`]: the
//! type name, every property with its type, default, constraints and whether a change can be
//! applied in place (`update_allowed`), and every attribute. The engine validates a
//! template's properties against it *before anything is created* (unknown names, missing
//! required properties, wrong types, broken constraints: `E6001`–`E6004`), then evaluates
//! functions and hands the provider resolved [`Properties`] with defaults applied and values
//! converted. So a provider never sees a missing required property or a string where it
//! declared an integer. What the schema cannot express (here: "a relative path that stays
//! inside the directory") the provider checks itself, at the start of `create`, and fails
//! with a message that names the property (see step 6). Test your schema with
//! [`ResourceSchema::schema_errors`].
//!
//! **2. Return the physical id at once; never sleep.** `create` starts the work and returns a
//! [`Created`] with the physical id as soon as the remote side knows it. If the thing is not
//! ready yet, it answers [`Progress::CheckAfter`] and the engine calls `check_create` later,
//! as often as needed. The engine owns waiting, polling, backoff, timeouts and cancellation;
//! a provider that sleeps blocks them all. A local file is ready the moment it is renamed
//! into place, so this provider answers [`Progress::Done`]. (Its file operations are short
//! blocking calls on a local disk; a provider whose calls can block for long should use its
//! runtime's async I/O instead, since the engine polls every provider call of a stack from
//! one task.)
//!
//! **3. Use the idempotency token.** Every call gets
//! [`ResourceContext::idempotency_token`]: unique to this resource and this attempt of this
//! action, and *the same when the engine repeats the step* after a crash or restart. A
//! provider tags what it creates with the token, so that a repeated `create` finds its own
//! earlier work instead of making a second object or failing. Here the token goes into an
//! ownership marker (in the hidden `.heat-local-files` directory of the managed directory)
//! written *before* the file:
//! - no marker and no file: claim the path (the marker is created atomically, exclusively),
//!   then write the file;
//! - a marker with *this* token: our own earlier attempt — write the file again (harmless:
//!   same content, atomic replace) and return the same physical id;
//! - a marker with another token: another resource manages that path — fail;
//! - a file without a marker: a file heat did not create — fail rather than overwrite it.
//!
//! The token also names the temporary file, so a create interrupted half-way reuses its own
//! leftovers. Writes are atomic: content goes to a temporary file in the same directory,
//! is flushed to disk, and is renamed over the target, so the file is never seen half
//! written.
//!
//! **4. Keep what you need later in [`ResourceData`].** `delete`, `check`, `update` and
//! `attribute` get only the physical id and the data the provider asked the engine to keep.
//! Here: the owning token (so `delete` never removes a file another resource took over) and
//! the SHA-256 of the content written (so `check` can tell whether it changed).
//!
//! **5. Make delete succeed when the thing is gone.** The engine may repeat a delete, and a
//! user may have removed the file by hand; either way the resource is gone, which is what
//! delete was asked for. Here a missing file is success. A delete must also never touch
//! anything it does not own: the physical id is checked to lie inside the directory.
//!
//! **6. Report errors by kind** ([`ProviderError`]):
//! - [`ProviderError::Failed`]: the operation cannot succeed as asked (a path outside the
//!   directory, a file managed by someone else, permission denied); the resource goes to
//!   `CREATE_FAILED` (or `UPDATE_FAILED`, ...) with this message, so write it for the user:
//!   name the property and say what to do;
//! - [`ProviderError::Retryable`]: a transient problem; the engine retries with backoff;
//! - [`ProviderError::NotFound`]: the physical resource does not exist (delete treats it as
//!   done; `check` reports it);
//! - [`ProviderError::UnknownAttribute`]: `get_attr` asked for an attribute you do not have.
//!
//! **7. Update in place, or ask for replacement.** The engine compares old and new properties
//! with the schema: a change to a property that is not `update_allowed` (here `path`) means
//! replacement — the engine creates a new resource, points dependents at it, and deletes the
//! old one. Only changes to `update_allowed` properties (`content`, `mode`) reach
//! [`ResourceProvider::update`], which rewrites the file and returns
//! [`Updated::InPlace`] with the data to keep from then on.
//!
//! **8. Check.** [`ResourceProvider::check`] (the stack `CHECK` action) verifies the live
//! resource: here, that the file exists and still has the content hash recorded at the last
//! create or update.
//!
//! **9. Register it.** A host adds the provider to a [`heat_core::engine::ProviderRegistry`]
//! next to the built-in types:
//!
//! ```no_run
//! use std::sync::Arc;
//! use heat_core::engine::ProviderRegistry;
//! use heat_example_local_files::{LocalFiles, TYPE_NAME};
//!
//! let mut registry = ProviderRegistry::with_builtins();
//! let provider = LocalFiles::new("/srv/heat-files").expect("the directory exists");
//! registry.register(TYPE_NAME, Arc::new(provider));
//! ```
//!
//! **10. Test it through the engine.** The crate's tests drive stacks through
//! [`heat_core::engine::Engine`] with a [`heat_core::engine::MemoryStore`] (create, delete,
//! rollback, repeated calls), and call the provider directly for what the engine cannot do
//! yet (update).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use heat_core::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use heat_core::engine::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use heat_core::template::model::ConstraintKind;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The resource type this crate implements.
pub const TYPE_NAME: &str = "Example::Local::File";

/// The hidden directory, inside the managed directory, that holds ownership markers. No
/// `path` may point into it.
pub const STATE_DIR: &str = ".heat-local-files";

/// Data key: the idempotency token of the create that owns the file.
pub const DATA_OWNER: &str = "owner";
/// Data key: the SHA-256 (hex) of the content last written.
pub const DATA_SHA256: &str = "sha256";

/// The highest `mode` accepted: every permission bit plus setuid, setgid and sticky.
const MAX_MODE: i64 = 0o7777;

/// Why a [`LocalFiles`] provider could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The directory does not exist or cannot be read.
    #[error("cannot use {path} as the files directory: {source}")]
    Directory {
        /// The directory as given.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The path exists but is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// The directory's path is not valid UTF-8 (physical ids are strings).
    #[error("the path of the files directory {0:?} is not valid UTF-8")]
    NotUtf8(PathBuf),
}

/// Why a `path` property was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty (or only `.` components).
    #[error("the path is empty: give a file name relative to the directory")]
    Empty,
    /// The path is absolute.
    #[error("{0:?} is an absolute path: give a path relative to the directory")]
    Absolute(String),
    /// The path has a `..` component.
    #[error("{0:?} leaves the directory: \"..\" is not allowed in a path")]
    Parent(String),
    /// The path points into the provider's own state directory.
    #[error("{0:?} is inside {STATE_DIR}, which holds heat's own records")]
    Reserved(String),
    /// A directory on the way is a symbolic link (which could lead outside) or a file.
    #[error("{path:?} cannot be used: {component:?} is {what}")]
    NotADirectory {
        /// The path as given.
        path: String,
        /// The offending component, relative to the directory.
        component: String,
        /// What it is instead (`a symbolic link`, `not a directory`).
        what: &'static str,
    },
}

/// The `Example::Local::File` provider: manages files in one directory.
#[derive(Debug)]
pub struct LocalFiles {
    root: PathBuf,
    schema: ResourceSchema,
}

impl LocalFiles {
    /// A provider managing files under `root`, which must be an existing directory. The path
    /// is made absolute (symbolic links resolved) once, here; physical ids are absolute paths
    /// under it.
    pub fn new(root: impl AsRef<Path>) -> Result<LocalFiles, SetupError> {
        let given = root.as_ref();
        let root = fs::canonicalize(given).map_err(|source| SetupError::Directory {
            path: given.to_path_buf(),
            source,
        })?;
        if !root.is_dir() {
            return Err(SetupError::NotADirectory(given.to_path_buf()));
        }
        if root.to_str().is_none() {
            return Err(SetupError::NotUtf8(root));
        }
        Ok(LocalFiles {
            root,
            schema: schema(),
        })
    }

    /// The managed directory (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path a `path` property names, after checking that it is relative, has
    /// no `..`, and does not point into [`STATE_DIR`]. Does not touch the file system.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, PathError> {
        Ok(self.root.join(relative_path(path)?))
    }

    /// The ownership marker of a relative path.
    fn marker(&self, relative: &Path) -> PathBuf {
        self.root
            .join(STATE_DIR)
            .join(hex(&Sha256::digest(relative.to_string_lossy().as_bytes())))
    }

    /// The relative path of a physical id, which must lie inside the directory.
    fn relative_of(&self, physical_id: &str) -> Result<PathBuf, ProviderError> {
        let path = Path::new(physical_id);
        let refuse = |why: String| {
            ProviderError::Failed(format!(
                "the physical id {physical_id:?} is not a file of {}: {why}",
                self.root.display()
            ))
        };
        let rel = path
            .strip_prefix(&self.root)
            .map_err(|_| refuse("it lies outside the directory".to_string()))?;
        let text = rel
            .to_str()
            .ok_or_else(|| refuse("it is not valid UTF-8".to_string()))?;
        relative_path(text).map_err(|e| refuse(e.to_string()))
    }

    /// Creates the directories leading to `relative` (inside the root), refusing symbolic
    /// links and non-directories on the way, so nothing is ever created outside the root.
    fn make_parents(
        &self,
        ctx: &ResourceContext<'_>,
        given: &str,
        relative: &Path,
    ) -> Result<(), ProviderError> {
        let Some(parent) = relative.parent() else {
            return Ok(());
        };
        let mut dir = self.root.clone();
        let mut so_far = PathBuf::new();
        for component in parent.components() {
            dir.push(component);
            so_far.push(component);
            let not_a_dir = |what| {
                let e = PathError::NotADirectory {
                    path: given.to_string(),
                    component: so_far.display().to_string(),
                    what,
                };
                property_error(ctx, "path", &e.to_string())
            };
            match fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(not_a_dir("a symbolic link"));
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(not_a_dir("not a directory")),
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&dir) {
                    Ok(()) => {}
                    // Created by someone else meanwhile: checked on the next run.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io_error("create the directory", &dir, &e)),
                },
                Err(e) => return Err(io_error("inspect", &dir, &e)),
            }
        }
        Ok(())
    }

    /// Claims `relative` for the create with `token`: `Ok` when the path is free (the marker
    /// is then written) or already ours.
    fn claim(&self, relative: &Path, target: &Path, token: &str) -> Result<(), ProviderError> {
        let marker = self.marker(relative);
        match owner_of(&marker)? {
            Some(owner) if owner == token => return Ok(()),
            Some(_) => {
                return Err(ProviderError::Failed(format!(
                    "{} is already managed by another resource: give this one another path",
                    relative.display()
                )));
            }
            None => {}
        }
        if fs::symlink_metadata(target).is_ok() {
            return Err(ProviderError::Failed(format!(
                "{} already exists and was not created by heat: remove it or choose another path",
                relative.display()
            )));
        }
        let state = self.root.join(STATE_DIR);
        fs::create_dir_all(&state).map_err(|e| io_error("create", &state, &e))?;
        // Written whole under a temporary name, then linked into place: linking fails if the
        // marker exists, so exactly one create can claim a path, and a marker is never
        // seen half written.
        let temp = state.join(format!("{}.tmp", short_hash(token)));
        write_synced(&temp, token.as_bytes(), None)?;
        let linked = fs::hard_link(&temp, &marker);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                sync_dir(&state);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Another create claimed it at the same moment: ours only if the token
                // matches.
                match owner_of(&marker)? {
                    Some(owner) if owner == token => Ok(()),
                    _ => Err(ProviderError::Failed(format!(
                        "{} is already managed by another resource: give this one another path",
                        relative.display()
                    ))),
                }
            }
            Err(e) => Err(io_error("record the owner of", target, &e)),
        }
    }

    /// Writes `content` to `target` atomically (temporary file in the same directory, flushed,
    /// renamed over the target), with `mode` when given.
    fn write_atomically(
        &self,
        target: &Path,
        content: &[u8],
        mode: Option<u32>,
        token: &str,
    ) -> Result<(), ProviderError> {
        let dir = target.parent().unwrap_or(&self.root);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.{}.tmp", short_hash(token)));
        write_synced(&temp, content, mode)?;
        if let Err(e) = fs::rename(&temp, target) {
            let _ = fs::remove_file(&temp);
            return Err(io_error("write", target, &e));
        }
        sync_dir(dir);
        Ok(())
    }
}

/// The schema of `Example::Local::File`.
pub fn schema() -> ResourceSchema {
    ResourceSchema {
        type_name: TYPE_NAME,
        description: "A file in the provider's directory, written atomically.",
        properties: vec![
            PropertySchema::new(
                "path",
                PropertyType::String,
                "Where the file goes, relative to the provider's directory; \"..\" and \
                 absolute paths are refused. Changing it replaces the resource.",
            )
            .required()
            .constraint(ConstraintKind::Length {
                min: Some(1.0),
                max: Some(4096.0),
            }),
            PropertySchema::new("content", PropertyType::String, "The file's content.")
                .default(Value::String(String::new()))
                .update_allowed(),
            PropertySchema::new(
                "mode",
                PropertyType::Integer,
                "Permission bits, as a decimal number (420 is 0o644); when not given, new \
                 files get the process's default and updates keep the current bits.",
            )
            .constraint(ConstraintKind::Range {
                min: Some(0.0),
                max: Some(MAX_MODE as f64),
            })
            .update_allowed(),
        ],
        attributes: vec![
            AttributeSchema {
                name: "size",
                description: "The file's size in bytes.",
            },
            AttributeSchema {
                name: "sha256",
                description: "The SHA-256 of the file's content, in hex.",
            },
            AttributeSchema {
                name: "path",
                description: "The file's absolute path (also its physical id).",
            },
        ],
        open: false,
    }
}

/// The checked relative form of a `path` property.
fn relative_path(path: &str) -> Result<PathBuf, PathError> {
    let p = Path::new(path);
    if p.has_root() || p.is_absolute() {
        return Err(PathError::Absolute(path.to_string()));
    }
    let mut out = PathBuf::new();
    for component in p.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(PathError::Parent(path.to_string())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(PathError::Absolute(path.to_string()));
            }
        }
    }
    match out.components().next() {
        None => Err(PathError::Empty),
        Some(Component::Normal(first)) if first == STATE_DIR => {
            Err(PathError::Reserved(path.to_string()))
        }
        Some(_) => Ok(out),
    }
}

/// The owning token recorded in a marker, `None` when there is no marker.
fn owner_of(marker: &Path) -> Result<Option<String>, ProviderError> {
    match fs::read_to_string(marker) {
        Ok(token) => Ok(Some(token)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", marker, &e)),
    }
}

/// Writes a new file (replacing any leftover of the same name) and flushes it to disk.
fn write_synced(path: &Path, content: &[u8], mode: Option<u32>) -> Result<(), ProviderError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| io_error("create", path, &e))?;
    file.write_all(content)
        .map_err(|e| io_error("write", path, &e))?;
    if let Some(mode) = mode {
        set_mode(&file, mode).map_err(|e| io_error("set the mode of", path, &e))?;
    }
    file.sync_all().map_err(|e| io_error("flush", path, &e))
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Elsewhere only the owner's write bit means something: without it the file is read-only.
#[cfg(not(unix))]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    let mut permissions = file.metadata()?.permissions();
    permissions.set_readonly(mode & 0o200 == 0);
    file.set_permissions(permissions)
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_meta: &fs::Metadata) -> Option<u32> {
    None
}

/// Flushes a directory's entries (a rename is durable once its directory is); best effort,
/// and a no-op where directories cannot be opened.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Reads a file whole; a missing file is [`ProviderError::NotFound`].
fn read_file(path: &Path) -> Result<Vec<u8>, ProviderError> {
    let mut file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ProviderError::NotFound(path.display().to_string()),
        _ => io_error("open", path, &e),
    })?;
    let mut content = Vec::new();
    file.read_to_end(&mut content)
        .map_err(|e| io_error("read", path, &e))?;
    Ok(content)
}

/// An I/O failure as a provider error: transient kinds are retried by the engine.
fn io_error(action: &str, path: &Path, e: &io::Error) -> ProviderError {
    let message = format!("cannot {action} {}: {e}", path.display());
    match e.kind() {
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            ProviderError::Retryable(message)
        }
        _ => ProviderError::Failed(message),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The SHA-256 of some content, hex.
pub fn sha256_hex(content: &[u8]) -> String {
    hex(&Sha256::digest(content))
}

/// 16 hex characters derived from a token: safe in file names whatever the token holds.
fn short_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes())[..8])
}

/// A property error in the shape the engine reports them.
fn property_error(ctx: &ResourceContext<'_>, property: &str, detail: &str) -> ProviderError {
    ProviderError::Failed(format!(
        "Property error: resources.{}.properties.{property}: {detail}",
        ctx.resource_name
    ))
}

/// The resolved properties this provider reads.
struct FileProps<'p> {
    path: &'p str,
    content: &'p str,
    mode: Option<u32>,
}

impl<'p> FileProps<'p> {
    /// Reads resolved properties. The engine has already checked them against the schema,
    /// so a failure here means a caller skipped it (a direct call, a test).
    fn read(ctx: &ResourceContext<'_>, props: &'p Properties) -> Result<Self, ProviderError> {
        let path = props
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| property_error(ctx, "path", "a string is required"))?;
        let content = match props.get("content") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(property_error(
                    ctx,
                    "content",
                    &format!("{other} is not a string"),
                ));
            }
        };
        let mode = match props.get("mode") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64().filter(|m| (0..=MAX_MODE).contains(m)) {
                Some(m) => u32::try_from(m).ok(),
                None => {
                    return Err(property_error(
                        ctx,
                        "mode",
                        &format!("{v} is not a mode between 0 and {MAX_MODE} (0o7777)"),
                    ));
                }
            },
        };
        Ok(FileProps {
            path,
            content,
            mode,
        })
    }
}

#[async_trait]
impl ResourceProvider for LocalFiles {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let props = FileProps::read(ctx, properties)?;
        let relative =
            relative_path(props.path).map_err(|e| property_error(ctx, "path", &e.to_string()))?;
        let target = self.root.join(&relative);
        self.make_parents(ctx, props.path, &relative)?;
        // Intent before action: the path is claimed for this token before the file exists.
        self.claim(&relative, &target, ctx.idempotency_token)?;
        if let Err(e) = self.write_atomically(
            &target,
            props.content.as_bytes(),
            props.mode,
            ctx.idempotency_token,
        ) {
            // Nothing was written: give the path back, so that a later create (of this or
            // another stack) can have it. (Had the engine stopped instead, it would repeat
            // this create with the same token, and the claim would still be ours.)
            let _ = fs::remove_file(self.marker(&relative));
            return Err(e);
        }
        let mut data = ResourceData::new();
        data.insert(DATA_OWNER.to_string(), ctx.idempotency_token.to_string());
        data.insert(
            DATA_SHA256.to_string(),
            sha256_hex(props.content.as_bytes()),
        );
        Ok(Created {
            physical_id: target.display().to_string(),
            data,
            progress: Progress::Done,
        })
    }

    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        let before = FileProps::read(ctx, old)?;
        let after = FileProps::read(ctx, new)?;
        if before.path != after.path {
            // The engine never asks for this (path is not update_allowed); said anyway, so a
            // direct caller gets the same answer.
            return Ok(Updated::NeedsReplacement {
                reason: format!(
                    "the path changed from {:?} to {:?}: a file in a new place is a new resource",
                    before.path, after.path
                ),
            });
        }
        let relative = self.relative_of(physical_id)?;
        let target = self.root.join(&relative);
        let mode = match after.mode {
            Some(mode) => Some(mode),
            // Keep the current bits: the rewrite makes a new file.
            None => fs::metadata(&target).ok().as_ref().and_then(mode_of),
        };
        let token = ctx
            .data
            .get(DATA_OWNER)
            .map_or(ctx.idempotency_token, String::as_str);
        self.write_atomically(&target, after.content.as_bytes(), mode, token)?;
        let mut data = ctx.data.clone();
        data.insert(
            DATA_SHA256.to_string(),
            sha256_hex(after.content.as_bytes()),
        );
        Ok(Updated::InPlace {
            data,
            progress: Progress::Done,
        })
    }

    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let relative = self.relative_of(physical_id)?;
        let target = self.root.join(&relative);
        let marker = self.marker(&relative);
        if let (Some(owner), Some(ours)) = (owner_of(&marker)?, ctx.data.get(DATA_OWNER))
            && owner != *ours
        {
            // Another resource has taken the path over since: the file is no longer ours,
            // and ours is gone.
            return Ok(Progress::Done);
        }
        match fs::remove_file(&target) {
            Ok(()) => sync_dir(target.parent().unwrap_or(&self.root)),
            // Already gone: that is what delete was asked for.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &target, &e)),
        }
        match fs::remove_file(&marker) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete the owner record", &marker, &e)),
        }
        Ok(Progress::Done)
    }

    async fn check(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<(), ProviderError> {
        let relative = self.relative_of(physical_id)?;
        let target = self.root.join(&relative);
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Err(ProviderError::Failed(format!(
                    "{} is no longer a regular file",
                    target.display()
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ProviderError::NotFound(target.display().to_string()));
            }
            Err(e) => return Err(io_error("inspect", &target, &e)),
        }
        let found = sha256_hex(&read_file(&target)?);
        match ctx.data.get(DATA_SHA256) {
            Some(expected) if *expected == found => Ok(()),
            Some(expected) => Err(ProviderError::Failed(format!(
                "{} was changed outside heat: its sha256 is {found}, expected {expected}",
                target.display()
            ))),
            None => Err(ProviderError::Failed(format!(
                "no content hash is recorded for {}: update the stack to record one",
                target.display()
            ))),
        }
    }

    async fn attribute(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        let relative = self.relative_of(physical_id)?;
        let target = self.root.join(&relative);
        match name {
            "path" => Ok(Value::String(physical_id.to_string())),
            "size" => match fs::metadata(&target) {
                Ok(meta) => Ok(Value::from(meta.len())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    Err(ProviderError::NotFound(physical_id.to_string()))
                }
                Err(e) => Err(io_error("inspect", &target, &e)),
            },
            "sha256" => Ok(Value::String(sha256_hex(&read_file(&target)?))),
            "show" => {
                let content = read_file(&target)?;
                Ok(json!({
                    "path": physical_id,
                    "size": content.len(),
                    "sha256": sha256_hex(&content),
                }))
            }
            other => Err(ProviderError::UnknownAttribute(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests;
