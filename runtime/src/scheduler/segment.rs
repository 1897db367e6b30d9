//! `--segment I/N`: one of N equal shares of a test, so that N processes
//! or pods together run exactly the test one process would. Every segment
//! follows the whole test's schedule and acts only on its own positions:
//! the users spawned `I`, `I+N`, `I+2N`, ... (closed model, by spawn
//! order), the iterations numbered so (open model), and as many of
//! `--iterations`. User ids never repeat across segments: in the closed
//! model they are the whole test's (so `--seed` gives each user the numbers
//! it would have had alone); an open-model pool numbers its users
//! `I`, `I+N`, ... as it makes them.

use std::fmt;

/// Segment `index` of `total` (from 0, as Kubernetes'
/// `JOB_COMPLETION_INDEX` counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub total: u32,
}

impl Segment {
    /// The whole test: one segment of one.
    pub const WHOLE: Segment = Segment { index: 0, total: 1 };

    /// Parses `I/N`, e.g. `0/4`.
    pub fn parse(text: &str) -> Result<Segment, String> {
        let parsed = text.split_once('/').and_then(|(index, total)| {
            Some(Segment { index: index.trim().parse().ok()?, total: total.trim().parse().ok()? })
        });
        match parsed {
            Some(segment) if segment.total == 0 => {
                Err(format!("`{text}`: a test has at least one segment"))
            }
            Some(segment) if segment.index >= segment.total => Err(format!(
                "`{text}`: segments count from 0, so the last of {} is {}",
                segment.total,
                segment.total - 1
            )),
            Some(segment) => Ok(segment),
            None => Err(format!("`{text}` is not a segment like 0/4 (index/total)")),
        }
    }

    /// Whether the user (or iteration) at `position` is this segment's.
    pub fn owns(self, position: u64) -> bool {
        position % u64::from(self.total) == u64::from(self.index)
    }

    /// How many of the positions `0..count` are this segment's.
    pub fn share(self, count: u64) -> u64 {
        let (index, total) = (u64::from(self.index), u64::from(self.total));
        count / total + u64::from(count % total > index)
    }

    /// [`Segment::share`] of a count of users.
    pub fn share_of_users(self, users: u32) -> u32 {
        u32::try_from(self.share(u64::from(users))).unwrap_or(u32::MAX)
    }

    /// The position of this segment's `nth` own one.
    pub fn position(self, nth: u64) -> u64 {
        nth * u64::from(self.total) + u64::from(self.index)
    }

    /// The segment's own positions, in order.
    pub fn positions(self) -> impl Iterator<Item = u64> {
        (0..).map(move |nth| self.position(nth))
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(total: u32) -> impl Iterator<Item = Segment> {
        (0..total).map(move |index| Segment { index, total })
    }

    #[test]
    fn segments_parse_as_index_over_total() {
        assert_eq!(Segment::parse("2/4"), Ok(Segment { index: 2, total: 4 }));
        assert_eq!(Segment::parse("0/1"), Ok(Segment::WHOLE));
        assert!(Segment::parse("4/4").unwrap_err().contains("the last of 4 is 3"));
        assert!(Segment::parse("0/0").is_err());
        assert!(Segment::parse("1").unwrap_err().contains("like 0/4"));
        assert!(Segment::parse("a/b").is_err());
        assert_eq!(Segment { index: 3, total: 7 }.to_string(), "3/7");
    }

    #[test]
    fn every_position_has_exactly_one_segment() {
        for total in 1..=9 {
            for position in 0..200 {
                assert_eq!(all(total).filter(|s| s.owns(position)).count(), 1);
            }
        }
    }

    #[test]
    fn shares_add_up_to_the_whole_and_match_ownership() {
        for total in 1..=9 {
            for count in 0..200u64 {
                let shares: Vec<u64> = all(total).map(|s| s.share(count)).collect();
                assert_eq!(shares.iter().sum::<u64>(), count, "{count} over {total}");
                // No segment has more than one over another.
                let (low, high) = (shares.iter().min(), shares.iter().max());
                assert!(high.zip(low).is_some_and(|(h, l)| h - l <= 1));
                for segment in all(total) {
                    let owned = (0..count).filter(|p| segment.owns(*p)).count() as u64;
                    assert_eq!(segment.share(count), owned);
                }
            }
        }
    }

    #[test]
    fn own_positions_are_listed_in_order() {
        let segment = Segment { index: 1, total: 3 };
        let positions: Vec<u64> = segment.positions().take(4).collect();
        assert_eq!(positions, [1, 4, 7, 10]);
    }

    #[test]
    fn shares_of_the_largest_counts_still_add_up() {
        let shares: Vec<u64> = all(3).map(|s| s.share(u64::MAX)).collect();
        assert_eq!(shares, [u64::MAX / 3; 3]);
        let shares: Vec<u64> = all(2).map(|s| s.share(u64::MAX)).collect();
        assert_eq!(shares, [u64::MAX / 2 + 1, u64::MAX / 2]);
    }
}
