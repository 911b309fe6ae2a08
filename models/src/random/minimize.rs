//! [`minimize`]: finishes what proptest's shrinking leaves.

use super::{run_safety, Case, Event, Failure, Kind};
use ruft::Config;

/// Finishes shrinking `case`, a case that fails on nodes set up by
/// `configure`. proptest deletes events in one pass and then shrinks the
/// survivors, so events needed only before the survivors shrank can stay (a
/// delivery that reached another message, ticks after the failure). This
/// repeats, while the case still fails in a way `keep` accepts: cut the events
/// after the failure, drop any single event, lower any tick count, merge two
/// ticks of one node, fewer voters (1, 3 or `voters_min`, never below
/// `voters_min`), no delayed writes; until nothing more goes. The result is
/// 1-minimal: without any one of its events it passes (or fails in a way
/// `keep` refuses). Returns the case and its failure; if `case` passes (or
/// fails in a way `keep` refuses), it is returned with a
/// [`Kind::NotReproduced`] failure.
pub fn minimize(
    mut case: Case,
    configure: &dyn Fn(&mut Config),
    keep: &dyn Fn(&Failure) -> bool,
) -> (Case, Failure) {
    let fails = |c: &Case| run_safety(c, configure).err().filter(|f| keep(f));
    let Some(mut failure) = fails(&case) else {
        let failure = Failure {
            kind: Kind::NotReproduced,
            events: 0,
            text: "the shrunk case passed when run again".into(),
        };
        return (case, failure);
    };
    loop {
        case.events.truncate(failure.events);
        let smaller = candidates(&case)
            .into_iter()
            .find_map(|c| fails(&c).map(|f| (c, f)));
        match smaller {
            Some((c, f)) => (case, failure) = (c, f),
            None => return (case, failure),
        }
    }
}

/// The cases one step smaller than `case`, in the order they are tried.
fn candidates(case: &Case) -> Vec<Case> {
    let mut candidates: Vec<Case> = Vec::new();
    for i in (0..case.events.len()).rev() {
        let mut c = case.clone();
        c.events.remove(i);
        candidates.push(c);
    }
    for (i, e) in case.events.iter().enumerate() {
        if let Event::Tick { node, times } = *e {
            for fewer in 1..times {
                let mut c = case.clone();
                c.events[i] = Event::Tick { node, times: fewer };
                candidates.push(c);
            }
        }
    }
    candidates.extend(merged_ticks(case));
    let mut fewer: Vec<usize> = [1, 3, case.voters_min]
        .into_iter()
        .filter(|&v| case.voters_min <= v && v < case.voters)
        .collect();
    fewer.sort_unstable();
    fewer.dedup();
    for voters in fewer {
        candidates.push(Case {
            voters,
            ..case.clone()
        });
    }
    if case.delayed != 0 {
        candidates.push(Case {
            delayed: 0,
            ..case.clone()
        });
    }
    candidates
}

/// Two ticks of one node with only other ticks between them, as one.
fn merged_ticks(case: &Case) -> Vec<Case> {
    let mut candidates = Vec::new();
    for i in 0..case.events.len() {
        let Event::Tick { node, times } = case.events[i] else {
            continue;
        };
        let voters = case.voters as u8;
        let same =
            |e: &Event| matches!(*e, Event::Tick { node: n, .. } if n % voters == node % voters);
        let next = case.events[i + 1..]
            .iter()
            .take_while(|e| matches!(e, Event::Tick { .. }))
            .position(same);
        if let Some(offset) = next {
            let j = i + 1 + offset;
            let Event::Tick { times: more, .. } = case.events[j] else {
                continue;
            };
            let mut c = case.clone();
            c.events[i] = Event::Tick {
                node,
                times: times.saturating_add(more),
            };
            c.events.remove(j);
            candidates.push(c);
        }
    }
    candidates
}
