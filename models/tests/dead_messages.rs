//! `--drop-dead-messages` (issue 18): a message its receiver drops for good
//! leaves the network at once. The search it gives must find every bug the
//! plain search finds: each catalogue mutant's model, with the flag, either
//! finds a violation or is cut short by the budget below (10 s; the few catalogue searches that take longer are inconclusive here, and were run whole by hand, docs/mutants.md); a search that
//! completes without one would mean the removal hid a bug.

use ruft_models::model::{ModelConfig, NetworkKind, RuftModel};
use ruft_models::mutants::CATALOGUE;
use ruft_models::search::{explore, SearchOptions};
use std::time::Duration;

#[test]
fn every_mutant_is_still_caught_with_dead_messages_dropped() {
    let (mut caught, mut inconclusive) = (Vec::new(), Vec::new());
    for c in CATALOGUE {
        let cfg = ModelConfig {
            drop_dead: true,
            ..c.config()
        };
        if cfg.network == NetworkKind::Duplicating {
            continue; // nothing is dropped there
        }
        let symmetry = !(cfg.conf_changes_max > 0 && cfg.compactions_max > 0);
        let opts = SearchOptions {
            symmetry,
            timeout: Some(Duration::from_secs(10)),
            progress_every: Duration::from_secs(3600),
            ..SearchOptions::default()
        };
        let o = explore(RuftModel::new(cfg), &opts, |_| {});
        let name = c.mutant.name();
        match (o.violations.first(), o.cut_short) {
            (Some((property, _)), _) => caught.push((name, *property)),
            (None, Some(_)) => inconclusive.push(name),
            (None, None) => panic!(
                "{name}: the search with dead messages dropped completed without a violation; \
                 the plain search catches it"
            ),
        }
    }
    println!("caught: {caught:?}\ncut short (inconclusive): {inconclusive:?}");
    assert!(
        caught.len() >= 20,
        "most mutants are caught within 10 s each: {caught:?}"
    );
}

#[test]
fn the_default_search_keeps_its_verdict() {
    let opts = SearchOptions {
        symmetry: true,
        progress_every: Duration::from_secs(3600),
        ..SearchOptions::default()
    };
    let plain = explore(RuftModel::new(ModelConfig::default()), &opts, |_| {});
    let dropped = explore(
        RuftModel::new(ModelConfig {
            drop_dead: true,
            ..ModelConfig::default()
        }),
        &opts,
        |_| {},
    );
    assert!(plain.complete && dropped.complete);
    assert_eq!(plain.verdicts, dropped.verdicts);
    assert_eq!(dropped.exit_code(), 0);
}
