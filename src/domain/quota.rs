//! Dedicated vCPU quota: per VM family and for the whole region, shared by instances and
//! clusters. Azure refuses a create that would go over it only when it tries; the form knows
//! beforehand from the usages list and says so beside the size.

use std::collections::HashMap;

/// One line of Azure's usages list: its name (`DedicatedCores`, `TotalCores`, or a family such
/// as `standardDSv2Family`), what is in use and the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLine {
    pub name: String,
    pub current: i64,
    pub limit: i64,
}

/// What is left of the quota.
#[derive(Debug, Clone, Default)]
pub struct Headroom {
    families: HashMap<String, (i64, i64)>,
    regional: Option<(i64, i64)>,
}

/// Why a size does not fit, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// "standardNCSv3Family" or "the region".
    pub scope: String,
    pub needed: i64,
    pub used: i64,
    pub limit: i64,
}

impl Shortfall {
    pub fn message(&self) -> String {
        format!(
            "Needs {} vCPUs but {} has {} of {} left (quota {}, in use {}).",
            self.needed,
            self.scope,
            self.limit.saturating_sub(self.used).max(0),
            self.limit,
            self.limit,
            self.used
        )
    }
}

impl Headroom {
    pub fn new(lines: impl IntoIterator<Item = UsageLine>) -> Headroom {
        let mut headroom = Headroom::default();
        for line in lines {
            let name = line.name.to_ascii_lowercase();
            match name.as_str() {
                "dedicatedcores" => headroom.regional = Some((line.current, line.limit)),
                // Totals that include low-priority cores say nothing about dedicated ones.
                "totalcores" | "totallowprioritycores" | "lowprioritycores" => {}
                _ => {
                    headroom.families.insert(name, (line.current, line.limit));
                }
            }
        }
        headroom
    }

    /// Whether `cores` more dedicated vCPUs of `family` fit.
    pub fn check(&self, family: &str, cores: i64) -> Result<(), Shortfall> {
        // The numbers are Azure's: added without overflow, whatever they are.
        if let Some((used, limit)) = self.families.get(&family.to_ascii_lowercase())
            && used.saturating_add(cores) > *limit
        {
            return Err(Shortfall {
                scope: family.to_string(),
                needed: cores,
                used: *used,
                limit: *limit,
            });
        }
        if let Some((used, limit)) = self.regional
            && used.saturating_add(cores) > limit
        {
            return Err(Shortfall {
                scope: "the region".into(),
                needed: cores,
                used,
                limit,
            });
        }
        Ok(())
    }

    /// vCPUs still free for `family`: the smaller of its own and the region's remainder.
    pub fn remaining(&self, family: &str) -> Option<i64> {
        let family_left = self
            .families
            .get(&family.to_ascii_lowercase())
            .map(|(u, l)| l.saturating_sub(*u));
        let regional_left = self.regional.map(|(u, l)| l.saturating_sub(u));
        match (family_left, regional_left) {
            (Some(f), Some(r)) => Some(f.min(r).max(0)),
            (Some(x), None) | (None, Some(x)) => Some(x.max(0)),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headroom() -> Headroom {
        Headroom::new([
            UsageLine {
                name: "TotalCores".into(),
                current: 40,
                limit: 100,
            },
            UsageLine {
                name: "DedicatedCores".into(),
                current: 40,
                limit: 100,
            },
            UsageLine {
                name: "standardNCSv3Family".into(),
                current: 6,
                limit: 12,
            },
        ])
    }

    #[test]
    fn family_and_region_limits() {
        let h = headroom();
        assert_eq!(h.check("standardNCSv3Family", 6), Ok(()));
        let short = h.check("standardncsv3family", 12).unwrap_err();
        assert_eq!((short.needed, short.used, short.limit), (12, 6, 12));
        assert!(short.message().contains("6 of 12 left"));
        assert_eq!(h.check("standardDSv2Family", 60), Ok(()));
        assert_eq!(
            h.check("standardDSv2Family", 61).unwrap_err().scope,
            "the region"
        );
        assert_eq!(h.remaining("standardNCSv3Family"), Some(6));
        assert_eq!(h.remaining("standardDSv2Family"), Some(60));
        assert_eq!(Headroom::default().remaining("x"), None);
    }
}
