//! Preflight: checks on the observed facts before any write, and the free-CIDR arithmetic for
//! the extra vSwitch CEN may need. Pure functions.

use super::facts::{Facts, SideFacts};
use ipnet::Ipv4Net;
use serde::Serialize;

/// A problem that stops the run before any write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub check: String,
    pub message: String,
    pub fix: String,
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A free block inside `vpc` that overlaps none of `used`: the first free block of `/prefix`,
/// or, when none is left, the largest free block (down to /29, the smallest vSwitch).
pub fn free_block(vpc: Ipv4Net, used: &[Ipv4Net], prefix: u8) -> Option<Ipv4Net> {
    (prefix.max(vpc.prefix_len())..=29).find_map(|len| {
        vpc.subnets(len)
            .ok()?
            .find(|candidate| used.iter().all(|u| !overlaps(candidate, u)))
    })
}

/// Where a new vSwitch goes on one side: a TR-supported zone other than the existing one, and a
/// free block of the VPC. `None` when no zone or no block is free.
pub fn new_vswitch_for(
    side: &SideFacts,
    zone: Option<&str>,
    cidr: Option<Ipv4Net>,
) -> Result<(String, Ipv4Net), String> {
    let existing: Vec<&str> = side.vswitches.iter().map(|v| v.zone.as_str()).collect();
    let zone = match zone {
        Some(z) if !side.tr_zones.is_empty() && !side.tr_zones.iter().any(|t| t == z) => {
            return Err(format!(
                "network.new_vswitch_zone {z} is not a zone the transit router in {} supports ({})",
                side.region,
                side.tr_zones.join(", ")
            ));
        }
        Some(z) if attachment_zones(side).iter().any(|(u, _)| u == z) => {
            return Err(format!(
                "network.new_vswitch_zone {z} is a zone VPC {} already uses for the attachment; pick another",
                side.vpc.id
            ));
        }
        Some(z) => z.to_string(),
        None => side
            .tr_zones
            .iter()
            .find(|z| !existing.contains(&z.as_str()))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no transit-router zone in {} other than {} is available for a second vSwitch",
                    side.region,
                    existing.join(", ")
                )
            })?,
    };
    let vpc_cidr: Ipv4Net = side.vpc.cidr.parse().map_err(|_| {
        format!(
            "VPC {} has an unreadable CIDR {:?}",
            side.vpc.id, side.vpc.cidr
        )
    })?;
    let used: Vec<Ipv4Net> = side
        .vswitches
        .iter()
        .filter_map(|v| v.cidr.parse().ok())
        .collect();
    let cidr = match cidr {
        Some(c) => {
            if !vpc_cidr.contains(&c) {
                return Err(format!(
                    "network.new_vswitch_cidr {c} is outside VPC {} ({vpc_cidr})",
                    side.vpc.id
                ));
            }
            if let Some(u) = used.iter().find(|u| overlaps(u, &c)) {
                return Err(format!(
                    "network.new_vswitch_cidr {c} overlaps an existing vSwitch ({u}) in VPC {}",
                    side.vpc.id
                ));
            }
            c
        }
        None => free_block(vpc_cidr, &used, 24).ok_or_else(|| {
            format!(
                "VPC {} ({vpc_cidr}) has no free block left for a vSwitch",
                side.vpc.id
            )
        })?,
    };
    Ok((zone, cidr))
}

/// Whether a side needs a second vSwitch for a CEN attachment (vSwitches in two zones).
/// The vSwitches a transit-router attachment of `side`'s VPC can use, `(zone, vSwitch id)`:
/// one per zone the transit router supports (any zone when that is not known), the side's own
/// vSwitch first when its zone is supported; at most two.
pub fn attachment_zones(side: &SideFacts) -> Vec<(String, String)> {
    let supported = |z: &str| side.tr_zones.is_empty() || side.tr_zones.iter().any(|t| t == z);
    let mut zones: Vec<(String, String)> = Vec::new();
    let own = std::iter::once((&side.vswitch.zone, &side.vswitch.id));
    for (zone, id) in own.chain(side.vswitches.iter().map(|v| (&v.zone, &v.id))) {
        if zones.len() < 2 && supported(zone) && !zones.iter().any(|(z, _)| z == zone) {
            zones.push((zone.clone(), id.clone()));
        }
    }
    zones
}

/// Whether an instance's status word (the product's own) says it is on its way back to
/// Running: applying a change (`DBInstanceNetTypeChanging`, `ClassChanging`, `Modifying`),
/// restarting or being created. Stopping, deleting, locked or released instances are not.
pub fn is_settling(status: &str) -> bool {
    let lower = status.to_ascii_lowercase();
    let parked = ["stop", "delet", "releas", "lock", "expir"];
    status != "Running"
        && (lower.ends_with("ing") || lower.contains("changing") || lower.contains("modif"))
        && !parked.iter().any(|p| lower.contains(p))
}

/// Checks that hold in every mode.
pub fn check(facts: &Facts) -> Vec<Problem> {
    let mut out = Vec::new();
    let loc = &facts.location;
    if !loc.running {
        out.push(Problem {
            check: "instance running".into(),
            message: format!(
                "instance is {} (account A, {}), not running",
                loc.status, loc.region
            ),
            fix: "wait until the instance is Running, then run again".into(),
        });
    }
    // Both CIDRs as the host read them (the data source's was checked against the plugin's).
    fn cidr(v: &crate::network::vpc::VSwitch) -> Result<Ipv4Net, &crate::network::vpc::VSwitch> {
        v.cidr.trim().parse::<Ipv4Net>().map_err(|_| v)
    }
    match (cidr(&facts.source.vswitch), cidr(&facts.dataworks.vswitch)) {
        (Ok(src), Ok(dst)) if overlaps(&src, &dst) => out.push(Problem {
            check: "CIDRs do not overlap".into(),
            message: format!(
                "the data source's vSwitch {} ({src}) overlaps the resource group's vSwitch {} ({dst})",
                facts.source.vswitch.id, facts.dataworks.vswitch.id
            ),
            fix: "bind the resource group to a vSwitch whose CIDR does not overlap the data source's".into(),
        }),
        (Ok(_), Ok(_)) => {}
        (Err(v), _) | (_, Err(v)) => out.push(Problem {
            check: "CIDRs readable".into(),
            message: format!("vSwitch {} reports an unreadable CIDR {:?}", v.id, v.cidr),
            fix: "check the vSwitch in the VPC console".into(),
        }),
    }
    if !matches!(facts.resource_group.status.as_str(), "Normal" | "") {
        out.push(Problem {
            check: "resource group usable".into(),
            message: format!(
                "resource group {} is {}",
                facts.resource_group.id, facts.resource_group.status
            ),
            fix: "wait until the resource group is Normal".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn an_instance_applying_a_change_is_settling_a_stopped_one_is_not() {
        for s in [
            "DBInstanceNetTypeChanging",
            "ClassChanging",
            "Modifying",
            "NetworkModifying",
            "Restarting",
            "Creating",
        ] {
            assert!(is_settling(s), "{s}");
        }
        for s in [
            "Running", "Stopped", "Stopping", "Deleting", "Locked", "LockMode", "Released",
        ] {
            assert!(!is_settling(s), "{s}");
        }
    }

    #[test]
    fn first_free_slash_24() {
        let vpc = net("192.168.0.0/16");
        assert_eq!(
            free_block(vpc, &[net("192.168.6.0/24")], 24),
            Some(net("192.168.0.0/24"))
        );
        assert_eq!(
            free_block(vpc, &[net("192.168.0.0/24"), net("192.168.1.0/25")], 24),
            Some(net("192.168.2.0/24"))
        );
        // A /16 vSwitch covering the VPC leaves nothing.
        assert_eq!(free_block(vpc, &[net("192.168.0.0/16")], 24), None);
    }

    #[test]
    fn largest_free_block_when_no_slash_24_is_left() {
        let vpc = net("10.0.0.0/24");
        // The /24 VPC with its first half used: the largest free block is the /25 after it.
        assert_eq!(
            free_block(vpc, &[net("10.0.0.0/25")], 24),
            Some(net("10.0.0.128/25"))
        );
        assert_eq!(
            free_block(vpc, &[net("10.0.0.0/25"), net("10.0.0.128/26")], 24),
            Some(net("10.0.0.192/26"))
        );
        // Small VPCs: the block is the VPC itself when it is empty.
        assert_eq!(
            free_block(net("10.0.0.0/28"), &[], 24),
            Some(net("10.0.0.0/28"))
        );
    }
}
