//! `Fn::Cidr: [ipBlock, count, cidrBits]` (AWS): `count` consecutive subnets of
//! `2^cidrBits` addresses each, from the start of the block (IPv4 or IPv6). `cidrBits` is the
//! number of host bits, so the subnets' prefix is `32 - cidrBits` (IPv4) or
//! `128 - cidrBits` (IPv6). `count` is 1 to 256. It is an error when the subnets do not fit.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use crate::eval::py;
use crate::eval::{Evaluator, Res};
use crate::span::Span;
use crate::template::expr::Call;

/// Computes the subnets; the error is a message.
pub(crate) fn cidr(block: &str, count: i64, bits: i64) -> Result<Vec<String>, String> {
    let (addr, prefix) = block
        .split_once('/')
        .ok_or_else(|| format!("\"{block}\" is not a CIDR block (address/prefix)"))?;
    let addr: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("\"{block}\" is not a CIDR block: bad address"))?;
    let total: u32 = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = prefix
        .trim()
        .parse()
        .ok()
        .filter(|p| *p <= total)
        .ok_or_else(|| format!("\"{block}\" is not a CIDR block: bad prefix length"))?;
    if !(1..=256).contains(&count) {
        return Err(format!(
            "the count must be between 1 and 256, found {count}"
        ));
    }
    let bits = u32::try_from(bits)
        .ok()
        .filter(|b| *b <= total)
        .ok_or_else(|| format!("cidrBits must be between 0 and {total}, found {bits}"))?;
    let new_prefix = total - bits;
    if new_prefix < prefix {
        return Err(format!(
            "subnets of {bits} host bits (/{new_prefix}) are larger than the block /{prefix}"
        ));
    }
    let count = count as u128;
    let fits = new_prefix - prefix >= 64 || count <= 1u128 << (new_prefix - prefix);
    if !fits {
        return Err(format!(
            "the block /{prefix} holds only {} subnets of /{new_prefix}, {count} were asked for",
            1u128 << (new_prefix - prefix)
        ));
    }
    let value: u128 = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let host_mask: u128 = if total - prefix >= 128 {
        u128::MAX
    } else {
        ((1u128 << (total - prefix)) - 1)
            & if total == 32 {
                u128::from(u32::MAX)
            } else {
                u128::MAX
            }
    };
    let base = value & !host_mask;
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let offset = i.checked_shl(bits).filter(|_| bits < 128).unwrap_or(0);
        let net = base.wrapping_add(offset);
        let text = if total == 32 {
            Ipv4Addr::from(u32::try_from(net).unwrap_or(0)).to_string()
        } else {
            Ipv6Addr::from(net).to_string()
        };
        out.push(format!("{text}/{new_prefix}"));
    }
    Ok(out)
}

impl Evaluator<'_, '_> {
    /// `Fn::Cidr: [ipBlock, count, cidrBits]`.
    pub(crate) fn fn_cidr(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 3, 3, "[ip block, count, cidr bits]")?;
        let block = self.eval_name(call, &items[0], "ip block")?;
        let int = |i: usize, what: &str| -> Res<i64> {
            let v = self.eval(&items[i])?;
            let n = match &v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => py::parse_int(s),
                _ => None,
            };
            n.ok_or_else(|| {
                self.fail_found(
                    call,
                    items[i].span,
                    format_args!("the {what} must be an integer"),
                    &v,
                )
            })
        };
        let count = int(1, "count")?;
        let bits = int(2, "cidr bits")?;
        cidr(&block, count, bits)
            .map(|v| Value::Array(v.into_iter().map(Value::String).collect()))
            .map_err(|m| {
                self.fail(call, span, m).with_hint(
                    "cidrBits is the number of host bits of each subnet: 8 gives /24 subnets of an \
                     IPv4 block, 64 gives /64 subnets of an IPv6 block",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::cidr;

    #[test]
    fn subnets() {
        let ok: &[(&str, i64, i64, &[&str])] = &[
            (
                "192.168.0.0/24",
                6,
                5,
                &[
                    "192.168.0.0/27",
                    "192.168.0.32/27",
                    "192.168.0.64/27",
                    "192.168.0.96/27",
                    "192.168.0.128/27",
                    "192.168.0.160/27",
                ],
            ),
            ("10.0.0.0/16", 2, 8, &["10.0.0.0/24", "10.0.1.0/24"]),
            ("10.0.5.7/16", 1, 8, &["10.0.0.0/24"]),
            ("10.0.0.0/24", 1, 8, &["10.0.0.0/24"]),
            (
                "10.0.0.0/30",
                4,
                0,
                &["10.0.0.0/32", "10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"],
            ),
            ("0.0.0.0/0", 1, 32, &["0.0.0.0/0"]),
            (
                "2001:db8::/56",
                3,
                64,
                &["2001:db8::/64", "2001:db8:0:1::/64", "2001:db8:0:2::/64"],
            ),
            ("::/0", 1, 128, &["::/0"]),
            ("fd00::/7", 2, 120, &["fc00::/8", "fd00::/8"]),
        ];
        for (block, count, bits, want) in ok {
            let got = cidr(block, *count, *bits).unwrap_or_else(|e| panic!("{block}: {e}"));
            assert_eq!(got, *want, "{block} {count} {bits}");
        }
        let bad: &[(&str, i64, i64, &str)] = &[
            ("10.0.0.0/24", 2, 8, "holds only 1"),
            ("10.0.0.0/24", 1, 9, "larger than the block"),
            ("10.0.0.0/24", 0, 4, "between 1 and 256"),
            ("10.0.0.0/24", 257, 0, "between 1 and 256"),
            ("10.0.0.0/24", 1, 33, "between 0 and 32"),
            ("10.0.0.0/24", 1, -1, "between 0 and 32"),
            ("10.0.0.0", 1, 1, "not a CIDR block"),
            ("10.0.0.300/8", 1, 1, "bad address"),
            ("10.0.0.0/33", 1, 1, "bad prefix"),
            ("2001:db8::/64", 1, 129, "between 0 and 128"),
            ("fd00::/8", 2, 120, "holds only 1"),
        ];
        for (block, count, bits, want) in bad {
            match cidr(block, *count, *bits) {
                Ok(v) => panic!("{block} {count} {bits}: expected an error, got {v:?}"),
                Err(e) => assert!(e.contains(want), "{block}: {e}"),
            }
        }
    }
}
