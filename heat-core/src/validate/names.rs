//! Name suggestions for diagnostics ("did you mean ...?").

/// The Levenshtein edit distance between two strings, counted in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b_chars.len()).collect();
    let mut cur = vec![0; b_chars.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b_chars.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b_chars.len()]
}

/// The edit distance counting a swap of two adjacent characters as one edit (optimal string
/// alignment), so `repaet` is one typo away from `repeat`.
pub fn typo_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows are enough.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut prev: Vec<usize> = (0..width).collect();
    let mut cur: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo: a
/// case-insensitive match, or an edit distance of at most a third of the name's length
/// (and at least 1).
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let d = if cand.to_lowercase() == lower {
            0
        } else {
            levenshtein(name, cand)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// A "did you mean 'x'?" hint, when some candidate is close.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(name, candidates).map(|c| format!("did you mean '{c}'?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases = [
            ("", "", 0),
            ("a", "", 1),
            ("kitten", "sitting", 3),
            ("flaw", "lawn", 2),
            ("été", "ete", 2),
            ("same", "same", 0),
        ];
        for (a, b, d) in cases {
            assert_eq!(levenshtein(a, b), d, "{a} {b}");
            assert_eq!(levenshtein(b, a), d, "{b} {a}");
        }
    }

    #[test]
    fn typo_distances() {
        let cases = [
            ("", "", 0),
            ("repaet", "repeat", 1),
            ("ab", "ba", 1),
            ("kitten", "sitting", 3),
            ("get_parm", "get_param", 1),
            ("abc", "", 3),
            ("ca", "abc", 3),
        ];
        for (a, b, d) in cases {
            assert_eq!(typo_distance(a, b), d, "{a} {b}");
            assert_eq!(typo_distance(b, a), d, "{b} {a}");
            assert!(typo_distance(a, b) <= levenshtein(a, b));
        }
    }

    #[test]
    fn suggestions() {
        let names = ["WebServer", "Database", "InstanceType", "db"];
        assert_eq!(closest("WebSrever", names), Some("WebServer"));
        assert_eq!(closest("webserver", names), Some("WebServer"));
        assert_eq!(closest("InstanceTyp", names), Some("InstanceType"));
        assert_eq!(closest("Something", names), None);
        assert_eq!(closest("dc", names), Some("db"));
        assert_eq!(
            did_you_mean("Databse", names).as_deref(),
            Some("did you mean 'Database'?")
        );
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
