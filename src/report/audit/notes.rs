//! Notes several connections share, said once at the end.

use super::AuditConnection;

/// The notes more than one connection carries, in the order they first
/// appear. Counted in one pass (issue 24 item 15: comparing every
/// connection with every later one took 9.7 s for 40,000).
pub(super) fn shared_notes(conns: &[AuditConnection]) -> SharedNotes<'_> {
    let mut count: std::collections::HashMap<&String, usize> = std::collections::HashMap::new();
    let mut order = Vec::new();
    for c in conns {
        let mut mine = std::collections::HashSet::new();
        for n in c.notes.iter().filter(|n| mine.insert(*n)) {
            let k = count.entry(n).or_insert(0);
            if *k == 0 {
                order.push(n);
            }
            *k += 1;
        }
    }
    let list: Vec<&String> = order.into_iter().filter(|n| count[n] > 1).collect();
    SharedNotes {
        set: list.iter().copied().collect(),
        list,
    }
}

/// Shared notes: in order, and as a set for lookups.
pub(super) struct SharedNotes<'a> {
    pub(super) list: Vec<&'a String>,
    set: std::collections::HashSet<&'a String>,
}

impl SharedNotes<'_> {
    pub(super) fn contains(&self, n: &String) -> bool {
        self.set.contains(n)
    }
}
