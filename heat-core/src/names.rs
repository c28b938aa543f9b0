//! Names: spelling suggestions ("did you mean ...?") and glob matching, shared by every stage
//! (structure parsing, parameters, environments, validation, evaluation).

/// The edit distance counting a swap of two adjacent characters as one edit (optimal string
/// alignment), so `repaet` is one typo away from `repeat`.
pub fn edit_distance(a: &str, b: &str) -> usize {
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
    let length = name.chars().count();
    let limit = (length / 3).max(1);
    let lower = (!name.is_ascii()).then(|| name.to_lowercase());
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let same_but_case = match &lower {
            None if cand.is_ascii() => cand.eq_ignore_ascii_case(name),
            _ => cand.to_lowercase() == name.to_lowercase(),
        };
        let d = if same_but_case {
            0
        } else if cand.chars().count().abs_diff(length) > limit {
            // The distance is at least the difference in length: too far.
            continue;
        } else {
            edit_distance(name, cand)
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

/// Shell-style matching as Python's `fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    // Iterative matching with backtracking on the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Matches a `[...]` class at `p[start]`: `Some((matched, index after the class))`, or `None`
/// when the bracket is not closed (then it is a literal `[`).
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = i < p.len() && p[i] == '!';
    if negate {
        i += 1;
    }
    let first = i;
    let mut matched = false;
    while i < p.len() && (p[i] != ']' || i == first) {
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
            assert_eq!(edit_distance(b, a), d, "{b} {a}");
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
