//! `check ... --report FILE.html`: a counterexample as one self-contained
//! HTML page (no script, no outside file), to attach to a CI failure: the
//! model's flags, why the property fails, the run as a sequence diagram, and
//! every step with the state it left, the failing step marked.

use crate::config::ModelConfig;
use crate::display;
use crate::explain;
use crate::model::RuftModel;
use crate::report::Counterexample;
use stateright::Model;

const STYLE: &str = "
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 75em; }
code, pre, td { font-family: monospace; font-size: 0.92em; }
.why { border-left: 4px solid #a33; background: #fbeeee; padding: 0.6em 1em; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
tr.fails td { background: #fbeeee; }
pre { margin: 0.3em 0; white-space: pre-wrap; }
.diagram { overflow-x: auto; background: #1b2a38; padding: 1em; border-radius: 6px; }
.svg-actor-label { fill: #ffd479; font-family: monospace; }
.svg-actor-timeline { stroke: #6a8aa5; }
.svg-event-label { fill: #ffd479; font-family: monospace; font-size: 12px; }
.svg-event-line { stroke: #9ec3e6; }
.svg-event-shape { fill: #9ec3e6; }
";

/// Escapes text for HTML (the report, and the explorer's banner).
///
/// ```
/// assert_eq!(ruft_models::html::escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
/// ```
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report page of `cx`, found on the model `cfg` describes.
pub fn report(cfg: &ModelConfig, cx: &Counterexample) -> String {
    let why = explain::explain(cx.property, &cx.path);
    let steps = explain::steps(&cx.path);
    let states: Vec<_> = cx
        .path
        .clone()
        .into_vec()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>ruft counterexample: {p}</title><style>{STYLE}</style></head><body>\n\
         <h1>Counterexample for \u{201c}{p}\u{201d}</h1>\n\
         <p>Model: <code>check bfs {flags}</code><br>{n} steps, {kind}.</p>\n",
        p = escape(cx.property),
        flags = escape(&cfg.flags()),
        n = steps.len(),
        kind = if cx.shortest {
            "the shortest"
        } else {
            "not known to be the shortest"
        },
    );
    if let Some(w) = &why {
        out += "<div class=\"why\">";
        for (k, line) in w.lines(cx.property).iter().enumerate() {
            let line = escape(line.trim());
            out += &if k == 0 {
                format!("<p><b>{line}</b></p>")
            } else {
                format!("<p>{line}</p>")
            };
        }
        out += "</div>\n";
    }
    if let Some(svg) = RuftModel::new(cfg.clone()).as_svg(cx.path.clone()) {
        out += &format!("<h2>The run</h2>\n<div class=\"diagram\">{svg}</div>\n");
    }
    out += "<h2>Steps</h2>\n<table><tr><th>#</th><th>step</th><th>sent</th><th>state after it</th></tr>\n";
    for (step, state) in steps.iter().zip(states.iter().skip(1)) {
        let fails = why.as_ref().is_some_and(|w| w.from_step == step.number);
        out += &format!(
            "<tr{}><td>{}</td><td>{}{}{}</td><td>{}</td><td><details{}><summary>{}</summary><pre>{}</pre></details></td></tr>\n",
            if fails { " class=\"fails\"" } else { "" },
            step.number,
            escape(&step.action),
            escape(step.outcome.note()),
            if fails {
                format!("<br><b>\u{201c}{}\u{201d} fails from here</b>", escape(cx.property))
            } else {
                String::new()
            },
            escape(&step.sent.join(", ")),
            if fails { " open" } else { "" },
            escape(&step.after),
            escape(&display::cluster_detail(state)),
        );
    }
    out += "</table>\n";
    if let Some(link) = cx.link(cfg) {
        out += &format!(
            "<p>Replay it in the explorer: <code>cargo run --release --bin check -- serve {}</code>, \
             then open <code>{}</code>.</p>\n",
            escape(&cfg.flags()),
            escape(&link)
        );
    }
    out += "</body></html>\n";
    out
}
