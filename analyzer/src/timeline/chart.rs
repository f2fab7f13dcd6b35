//! The report's Timeline section: an inline SVG (lanes per node plus one per cluster for
//! cluster-wide facts, markers coloured by severity, the collection marked, every finding a
//! linked marker) and the densest period as a table. No script, no external resource: the
//! report stays one file that works offline. Every name from a bundle or a rule is escaped.

use std::collections::HashMap;
use std::fmt::Write;

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};
use duckdb::types::Value;
use duckdb::{Connection, params};
use serde::Serialize;

use super::time::{absolute, relative};
use super::{Entry, Filter};
use crate::rules::Lang;

/// Node lanes drawn at most; facts of the other nodes share one lane.
const MAX_NODE_LANES: usize = 30;
/// Columns facts are grouped into along the time axis.
const COLUMNS: i64 = 160;
/// Rows of the densest period shown at most.
const MAX_DENSEST_ROWS: usize = 40;
/// Interval bars drawn at most.
const MAX_BARS: usize = 2000;

const WIDTH: f64 = 1120.0;
const LABEL_WIDTH: f64 = 190.0;
const PLOT_RIGHT: f64 = 1100.0;
const TOP: f64 = 34.0;
const LANE_HEIGHT: f64 = 24.0;

/// What the template shows.
#[derive(Debug, Serialize)]
pub struct Section {
    /// The SVG, markup already escaped.
    pub svg: String,
    /// The 24 hours before the collection on their own, when the window is much wider.
    pub zoom: Option<String>,
    /// Start of the zoomed day.
    pub zoom_start: String,
    /// The collection time the zoomed day ends at.
    pub reference: String,
    /// Start of the window shown.
    pub window_start: String,
    /// End of the window shown.
    pub window_end: String,
    /// Nodes whose facts share the "other nodes" lane.
    pub nodes_folded: usize,
    /// Start of the densest period.
    pub densest_start: String,
    /// End of the densest period.
    pub densest_end: String,
    /// Facts in the densest period (all of them, not only those shown).
    pub densest_total: i64,
    /// The densest period's rows, oldest first.
    pub densest: Vec<Row>,
}

/// One row of the densest period.
#[derive(Debug, Serialize)]
pub struct Row {
    /// Absolute time.
    pub time: String,
    /// Relative to the collection.
    pub relative: String,
    /// Severity.
    pub severity: String,
    /// Kind.
    pub kind: String,
    /// Node, or empty for cluster-wide.
    pub node: String,
    /// Resource.
    pub resource: String,
    /// Summary in the report language.
    pub summary: String,
    /// For findings: the finding's anchor.
    pub anchor: Option<String>,
}

/// A lane: one node of one cluster, the cluster-wide facts of a cluster, or the folded nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lane {
    Cluster(String),
    Node(String, String),
    Folded,
}

/// Builds the section, or `None` when the case has no dated fact.
pub fn build(conn: &Connection, lang: Lang) -> Result<Option<Section>> {
    let Some(reference) = super::reference_time(conn)? else {
        return Ok(None);
    };
    let findings = super::read(
        conn,
        &Filter {
            kinds: vec!["finding".into()],
            ..Filter::default()
        },
    )?;
    let (start, end) = window(reference, &findings);
    let whole = Plot { start, end };
    let (lanes, folded) = lanes(conn, &whole)?;
    let multi = lanes
        .iter()
        .filter(|l| matches!(l, Lane::Cluster(_)))
        .count()
        > 1;
    let index: HashMap<Lane, usize> = lanes
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), i))
        .collect();
    let lane_of = |cluster: &str, node: Option<&str>| -> usize {
        // As LANES_SQL files them: an empty node name is cluster-wide.
        let lane = match node {
            None | Some("") => Lane::Cluster(cluster.to_string()),
            Some(n) => Lane::Node(cluster.to_string(), n.to_string()),
        };
        index
            .get(&lane)
            .or_else(|| index.get(&Lane::Folded))
            .copied()
            .unwrap_or(0)
    };
    let canvas = Canvas {
        conn,
        lanes: &lanes,
        multi,
        lane_of: &lane_of,
        findings: &findings,
        lang,
    };
    let svg = canvas.draw(&whole, true)?;
    // A window widened to older findings squeezes the last day into a corner: draw that day
    // again on its own (its diamonds link to the findings; the ids stay on the full chart).
    let day = reference - TimeDelta::hours(24);
    let zoom = if start < day - TimeDelta::hours(12) {
        let margin = TimeDelta::minutes(30);
        Some(canvas.draw(
            &Plot {
                start: day - margin,
                end: reference + margin,
            },
            false,
        )?)
    } else {
        None
    };
    let (densest_start, densest_end, densest_total, densest) =
        densest(conn, start, end, reference, lang)?;
    Ok(Some(Section {
        svg,
        zoom,
        zoom_start: absolute(day),
        reference: absolute(reference),
        window_start: absolute(start),
        window_end: absolute(end),
        nodes_folded: folded,
        densest_start: absolute(densest_start),
        densest_end: absolute(densest_end),
        densest_total,
        densest,
    }))
}

/// What a chart is drawn from.
struct Canvas<'a> {
    conn: &'a Connection,
    lanes: &'a [Lane],
    multi: bool,
    lane_of: &'a dyn Fn(&str, Option<&str>) -> usize,
    findings: &'a [Entry],
    lang: Lang,
}

impl Canvas<'_> {
    /// The chart of `plot`'s window; `with_ids`: the findings' diamonds carry the anchors the
    /// findings link to (one chart of the report only, ids being unique).
    fn draw(&self, plot: &Plot, with_ids: bool) -> Result<String> {
        let (conn, lang) = (self.conn, self.lang);
        let mut svg = String::new();
        let height = TOP + LANE_HEIGHT * self.lanes.len() as f64 + 44.0;
        let label = match lang {
            Lang::En => "Timeline of the case",
            Lang::Zh => "案例时间线",
        };
        let _ = write!(
            svg,
            r#"<svg class="timeline" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{label}">"#
        );
        draw_lanes(&mut svg, self.lanes, self.multi, lang);
        draw_axis(&mut svg, plot, self.lanes.len());
        draw_collections(&mut svg, conn, plot, self.lanes.len(), lang)?;
        draw_bars(&mut svg, conn, plot, self.lane_of)?;
        draw_facts(&mut svg, conn, plot, self.lanes, lang)?;
        draw_findings(&mut svg, self.findings, plot, self.lane_of, lang, with_ids);
        draw_legend(&mut svg, height - 14.0, lang);
        svg.push_str("</svg>");
        Ok(svg)
    }
}

/// The 24 hours before the collection, widened to every finding's time.
fn window(reference: DateTime<Utc>, findings: &[Entry]) -> (DateTime<Utc>, DateTime<Utc>) {
    let mut start = reference - TimeDelta::hours(24);
    let mut end = reference;
    for f in findings {
        start = start.min(f.ts);
        end = end.max(f.ts);
    }
    // A margin, so markers at the edges are drawn whole.
    let margin = ((end - start) / 80).min(TimeDelta::hours(1));
    (start - margin, end + margin)
}

/// The lanes, as the table `lanes(cluster, node, lane)`, for the window `$1` to `$2` (epoch
/// microseconds): per cluster (by name) its cluster-wide lane (node `''`), then its nodes by
/// name. The nodes shown are chosen by what they hold in the window: findings first, then
/// non-info facts, then facts; beyond `$3` ([`MAX_NODE_LANES`]) they share the folded lane,
/// which has no row here. `node_rank` ranks every node of the window.
const LANES_SQL: &str = "
    node_rank AS (
        SELECT coalesce(cluster, '') AS cluster, node,
            row_number() OVER (ORDER BY count(*) FILTER (WHERE kind = 'finding') DESC,
                count(*) FILTER (WHERE severity <> 'info' AND kind <> 'finding') DESC,
                count(*) DESC, coalesce(cluster, ''), node) AS rank
        FROM timeline
        WHERE node <> '' AND ts BETWEEN make_timestamp($1) AND make_timestamp($2)
        GROUP BY 1, 2
    ),
    lanes AS (
        SELECT cluster, node, row_number() OVER (ORDER BY cluster, node) - 1 AS lane
        FROM (
            SELECT DISTINCT coalesce(cluster, '') AS cluster, '' AS node FROM timeline
            UNION ALL
            SELECT cluster, node FROM node_rank WHERE rank <= $3
        )
    )";

/// The lanes, top to bottom (see [`LANES_SQL`]), with the folded lane last when some nodes
/// are folded, and how many nodes were folded.
fn lanes(conn: &Connection, window: &Plot) -> Result<(Vec<Lane>, usize)> {
    let mut stmt = conn.prepare(&format!(
        "WITH {LANES_SQL}
         SELECT cluster, node, (SELECT count(*) FROM node_rank WHERE rank > $3)
         FROM lanes ORDER BY lane"
    ))?;
    let params = params![
        window.start.timestamp_micros(),
        window.end.timestamp_micros(),
        MAX_NODE_LANES as i64
    ];
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut lanes = Vec::new();
    let mut folded = 0;
    for row in rows {
        let (cluster, node, beyond) = row?;
        folded = usize::try_from(beyond).unwrap_or(0);
        lanes.push(if node.is_empty() {
            Lane::Cluster(cluster)
        } else {
            Lane::Node(cluster, node)
        });
    }
    if folded > 0 {
        lanes.push(Lane::Folded);
    }
    Ok((lanes, folded))
}

/// Maps times to x.
struct Plot {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Plot {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let span = (self.end - self.start).num_milliseconds().max(1) as f64;
        let at = (t - self.start).num_milliseconds() as f64;
        LABEL_WIDTH + (PLOT_RIGHT - LABEL_WIDTH) * (at / span).clamp(0.0, 1.0)
    }

    fn span_us(&self) -> i64 {
        (self.end - self.start)
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .max(1)
    }
}

fn lane_y(lane: usize) -> f64 {
    TOP + LANE_HEIGHT * lane as f64 + LANE_HEIGHT / 2.0
}

fn draw_lanes(svg: &mut String, lanes: &[Lane], multi: bool, lang: Lang) {
    let (cluster_wide, folded) = match lang {
        Lang::En => ("cluster-wide", "other nodes"),
        Lang::Zh => ("集群范围", "其他节点"),
    };
    for (i, lane) in lanes.iter().enumerate() {
        let y = TOP + LANE_HEIGHT * i as f64;
        let fill = if i % 2 == 0 { "#f6f8fb" } else { "#ffffff" };
        let _ = write!(
            svg,
            r#"<rect x="0" y="{y}" width="{PLOT_RIGHT}" height="{LANE_HEIGHT}" fill="{fill}"/>"#
        );
        let name = match lane {
            Lane::Cluster(c) if multi => format!("{c} · {cluster_wide}"),
            Lane::Cluster(_) => cluster_wide.to_string(),
            Lane::Node(c, n) if multi => format!("{c} · {n}"),
            Lane::Node(_, n) => n.clone(),
            Lane::Folded => folded.to_string(),
        };
        let _ = write!(
            svg,
            r#"<text x="6" y="{}" class="lane">{}</text>"#,
            y + LANE_HEIGHT / 2.0 + 4.0,
            escape(&shorten(&name, 28))
        );
    }
}

/// Time ticks along the top, at a round step giving at most ten of them.
fn draw_axis(svg: &mut String, plot: &Plot, lanes: usize) {
    const STEPS_MIN: [i64; 13] = [
        10, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160, 43200, 129600,
    ];
    let span_min = (plot.end - plot.start).num_minutes().max(1);
    let step = STEPS_MIN
        .iter()
        .copied()
        .find(|s| span_min / s <= 10)
        .unwrap_or(525600);
    let step_us = step * 60_000_000;
    let first = plot.start.timestamp_micros().div_euclid(step_us) * step_us + step_us;
    let bottom = TOP + LANE_HEIGHT * lanes as f64;
    let format = if step >= 1440 { "%m-%d" } else { "%m-%d %H:%M" };
    let mut t = first;
    while t <= plot.end.timestamp_micros() {
        let Some(at) = DateTime::from_timestamp_micros(t) else {
            break;
        };
        let x = plot.x(at);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom}" stroke="#e3e7ee"/><text x="{x:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"##,
            TOP - 4.0,
            TOP - 8.0,
            at.format(format)
        );
        t += step_us;
    }
}

/// A dashed line at each collection time.
fn draw_collections(
    svg: &mut String,
    conn: &Connection,
    plot: &Plot,
    lanes: usize,
    lang: Lang,
) -> Result<()> {
    let word = match lang {
        Lang::En => "collection",
        Lang::Zh => "收集时间",
    };
    let mut stmt = conn.prepare(
        "SELECT DISTINCT epoch_us(date_trunc('minute', collected_at)) FROM bundles ORDER BY 1",
    )?;
    let times: Vec<i64> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let bottom = TOP + LANE_HEIGHT * lanes as f64;
    for (i, us) in times.iter().enumerate() {
        let Some(at) = DateTime::from_timestamp_micros(*us) else {
            continue;
        };
        let x = plot.x(at);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom}" stroke="#16213e" stroke-width="1.5" stroke-dasharray="5,3"><title>{word} {}</title></line>"##,
            TOP - 2.0,
            absolute(at)
        );
        if i == times.len() - 1 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="12" text-anchor="end" class="collection">{word} ▼</text>"#,
                x + 6.0
            );
        }
    }
    Ok(())
}

/// Non-info intervals (events seen again and again, log bursts) as thin bars.
fn draw_bars(
    svg: &mut String,
    conn: &Connection,
    plot: &Plot,
    lane_of: &dyn Fn(&str, Option<&str>) -> usize,
) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT coalesce(cluster, ''), node, epoch_us(ts), epoch_us(end_ts), severity FROM timeline
         WHERE end_ts IS NOT NULL AND severity <> 'info' AND kind <> 'finding'
           AND end_ts >= make_timestamp(?) AND ts <= make_timestamp(?)
         -- Ties broken in a fixed order: the same case draws the same bars.
         ORDER BY end_ts - ts DESC, ts, cluster, node, kind, resource, evidence LIMIT {MAX_BARS}"
    ))?;
    let rows = stmt.query_map(
        params![plot.start.timestamp_micros(), plot.end.timestamp_micros()],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )?;
    for row in rows {
        let (cluster, node, from, to, severity) = row?;
        let (Some(from), Some(to)) = (
            DateTime::from_timestamp_micros(from),
            DateTime::from_timestamp_micros(to),
        ) else {
            continue;
        };
        let y = lane_y(lane_of(&cluster, node.as_deref()));
        let (x1, x2) = (plot.x(from), plot.x(to));
        let _ = write!(
            svg,
            r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{}" stroke-width="3" stroke-opacity="0.35"/>"#,
            color(&severity)
        );
    }
    Ok(())
}

/// Facts grouped per lane and column: one circle in the colour of the worst, larger for more.
/// The grouping is by lane, in the database: the facts of folded nodes make one circle per
/// column, not one per node.
fn draw_facts(
    svg: &mut String,
    conn: &Connection,
    plot: &Plot,
    lanes: &[Lane],
    lang: Lang,
) -> Result<()> {
    let folded = lanes.iter().position(|l| *l == Lane::Folded).unwrap_or(0);
    let mut params = vec![
        Value::BigInt(plot.start.timestamp_micros()),
        Value::BigInt(plot.end.timestamp_micros()),
        Value::BigInt(plot.span_us()),
    ];
    let lane_table = lane_values(lanes, &mut params);
    let mut stmt = conn.prepare(&format!(
        "SELECT coalesce(l.lane, {folded}) AS lane,
            least(floor((epoch_us(t.ts) - $1) * {COLUMNS} / $3), {COLUMNS} - 1)::BIGINT AS col,
            max(CASE t.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                                WHEN 'low' THEN 1 ELSE 0 END),
            count(*)
         FROM timeline t
         LEFT JOIN {lane_table} ON l.cluster = coalesce(t.cluster, '') AND l.node = coalesce(t.node, '')
         WHERE t.kind NOT IN ('finding', 'collection')
           AND t.ts BETWEEN make_timestamp($1) AND make_timestamp($2)
         GROUP BY ALL ORDER BY 3, 1, 2"
    ))?;
    let rows = stmt.query_map(duckdb::params_from_iter(params), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let step = plot.span_us() / COLUMNS;
    for row in rows {
        let (lane, col, worst, count) = row?;
        let severity = ["info", "low", "medium", "high", "critical"][worst.clamp(0, 4) as usize];
        let Some(from) =
            DateTime::from_timestamp_micros(plot.start.timestamp_micros() + col * step)
        else {
            continue;
        };
        let x = plot.x(from + TimeDelta::microseconds(step / 2));
        let y = lane_y(usize::try_from(lane).unwrap_or(0));
        let r = if worst == 0 {
            2.5
        } else {
            3.5 + (count as f64).log10().min(3.0)
        };
        let title = match lang {
            Lang::En => format!("{} · {count} facts, worst {severity}", absolute(from)),
            Lang::Zh => format!("{} · {count} 条记录，最高 {severity}", absolute(from)),
        };
        let _ = write!(
            svg,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{}" fill-opacity="{}"><title>{}</title></circle>"#,
            color(severity),
            if worst == 0 { "0.45" } else { "0.9" },
            escape(&title)
        );
    }
    Ok(())
}

/// The lanes as the table `l(cluster, node, lane)` to join on, as [`LANES_SQL`] files them
/// (node `''` for cluster-wide). Names are bound as parameters, appended to `params`: no name
/// from a bundle is ever written into SQL. The folded lane has no row.
fn lane_values(lanes: &[Lane], params: &mut Vec<Value>) -> String {
    let mut rows = Vec::new();
    for (i, lane) in lanes.iter().enumerate() {
        let (cluster, node) = match lane {
            Lane::Cluster(c) => (c, ""),
            Lane::Node(c, n) => (c, n.as_str()),
            Lane::Folded => continue,
        };
        params.push(Value::Text(cluster.clone()));
        params.push(Value::Text(node.to_string()));
        rows.push(format!("(${}, ${}, {i})", params.len() - 1, params.len()));
    }
    if rows.is_empty() {
        return "(SELECT '' AS cluster, '' AS node, 0 AS lane WHERE false) l".into();
    }
    format!("(VALUES {}) AS l(cluster, node, lane)", rows.join(", "))
}

/// Each finding as a diamond linking to it in the findings list; the finding links back to
/// the diamond's id.
fn draw_findings(
    svg: &mut String,
    findings: &[Entry],
    plot: &Plot,
    lane_of: &dyn Fn(&str, Option<&str>) -> usize,
    lang: Lang,
    with_ids: bool,
) {
    // Findings at the same place are spread over the lane's height.
    let mut taken: HashMap<(usize, i64), usize> = HashMap::new();
    for f in findings {
        let Some(anchor) = &f.anchor else { continue };
        let lane = lane_of(&f.cluster, f.node.as_deref());
        if f.ts < plot.start || f.ts > plot.end {
            continue;
        }
        let x = plot.x(f.ts);
        let slot = taken.entry((lane, (x / 4.0) as i64)).or_insert(0);
        let dy = [0.0, -6.0, 6.0][*slot % 3];
        *slot += 1;
        let y = lane_y(lane) + dy;
        let summary = match lang {
            Lang::En => &f.summary,
            Lang::Zh => &f.summary_zh,
        };
        let title = format!("{} · {}", absolute(f.ts), shorten(summary, 300));
        let _ = write!(
            svg,
            r##"<a href="#{id}"{own}><polygon points="{:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="{}" stroke="#16213e" stroke-width="1"/><title>{}</title></a>"##,
            x,
            y - 6.0,
            x + 6.0,
            y + 6.0,
            x - 6.0,
            color(&f.severity),
            escape(&title),
            id = escape(anchor),
            own = if with_ids {
                format!(r#" id="tl-{}""#, escape(anchor))
            } else {
                String::new()
            },
        );
    }
}

fn draw_legend(svg: &mut String, y: f64, lang: Lang) {
    let (facts, finding) = match lang {
        Lang::En => ("facts (colour: worst severity)", "finding (links to it)"),
        Lang::Zh => ("记录（颜色：最高严重级别）", "发现的问题（点击跳转）"),
    };
    let mut x = LABEL_WIDTH;
    for severity in ["critical", "high", "medium", "low", "info"] {
        let _ = write!(
            svg,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{}"/><text x="{:.1}" y="{:.1}" class="legend">{severity}</text>"#,
            color(severity),
            x + 8.0,
            y + 4.0
        );
        x += 78.0;
    }
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" class="legend">● {facts}</text><polygon points="{:.1},{:.1} {:.1},{y:.1} {:.1},{:.1} {:.1},{y:.1}" fill="#ffffff" stroke="#16213e"/><text x="{:.1}" y="{:.1}" class="legend">{finding}</text>"##,
        x,
        y + 4.0,
        x + 230.0,
        y - 6.0,
        x + 236.0,
        x + 230.0,
        y + 6.0,
        x + 224.0,
        x + 242.0,
        y + 4.0,
    );
}

/// The densest period: its start, end, how many facts it holds, and the rows shown.
type Densest = (DateTime<Utc>, DateTime<Utc>, i64, Vec<Row>);

/// The period (a 24th of the window, at least 10 minutes) with the most notable facts — or
/// the most facts, when none is notable — and its rows.
fn densest(
    conn: &Connection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    reference: DateTime<Utc>,
    lang: Lang,
) -> Result<Densest> {
    let width_us = ((end - start).num_microseconds().unwrap_or(i64::MAX) / 24).max(600_000_000);
    let found: Option<(i64, i64)> = conn
        .query_row(
            "SELECT (epoch_us(ts) - $1) // $3 AS slot, count(*) AS n
             FROM timeline
             WHERE kind NOT IN ('collection') AND ts BETWEEN make_timestamp($1) AND make_timestamp($2)
             GROUP BY slot
             ORDER BY count(*) FILTER (WHERE severity <> 'info') DESC, n DESC, slot DESC
             LIMIT 1",
            params![start.timestamp_micros(), end.timestamp_micros(), width_us],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    let Some((slot, total)) = found else {
        return Ok((start, start, 0, Vec::new()));
    };
    let from = start + TimeDelta::microseconds(slot * width_us);
    let to = from + TimeDelta::microseconds(width_us);
    // The notable facts first, when there are more than fit; then back in time order.
    let picked = super::read_notable(
        conn,
        from,
        to - TimeDelta::microseconds(1),
        MAX_DENSEST_ROWS,
    )?;
    let rows = picked
        .into_iter()
        .map(|e| Row {
            time: absolute(e.ts),
            relative: relative(e.ts, reference),
            severity: e.severity,
            kind: e.kind,
            node: e.node.unwrap_or_default(),
            resource: e.resource,
            summary: match lang {
                Lang::En => e.summary,
                Lang::Zh => e.summary_zh,
            },
            anchor: e.anchor,
        })
        .collect();
    Ok((from, to, total, rows))
}

fn color(severity: &str) -> &'static str {
    match severity {
        "critical" => "#8b1e3f",
        "high" => "#c0392b",
        "medium" => "#d68910",
        "low" => "#2e86c1",
        _ => "#5d6d7e",
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Text for SVG content and attribute values: markup characters as references, control
/// characters (which XML forbids and terminals misread) as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("<a href=\"x\" onclick='y'>&\u{1b}[2J</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;\u{fffd}[2J&lt;/a&gt;"
        );
        assert_eq!(escape("节点 node-1"), "节点 node-1");
    }

    #[test]
    fn window_is_the_day_before_collection_widened_to_every_finding() {
        let at = |s: &str| super::super::time::parse_absolute(s).expect("time");
        let reference = at("2026-01-15T12:00:00Z");
        let (start, end) = window(reference, &[]);
        assert!(start < at("2026-01-14T12:00:00Z") && start > at("2026-01-14T11:00:00Z"));
        assert!(end > reference && end < at("2026-01-15T13:00:00Z"));
        let old = Entry {
            ts: at("2026-01-09T12:00:00Z"),
            end_ts: None,
            kind: "finding".into(),
            severity: "high".into(),
            cluster: String::new(),
            bundle_id: String::new(),
            namespace: None,
            resource: "pod/a/b".into(),
            node: None,
            count: None,
            summary: String::new(),
            summary_zh: String::new(),
            evidence_kind: "finding".into(),
            evidence: "r#0".into(),
            anchor: Some("finding-r-0".into()),
        };
        let (start, _) = window(reference, &[old]);
        assert!(start < at("2026-01-09T12:00:00Z"));
    }

    /// A case of `nodes` nodes, each with one fact at the same minute; the first `high` of
    /// them are `high`, the others `info`.
    fn case_with_nodes(nodes: usize, high: usize) -> Connection {
        let conn = Connection::open_in_memory().expect("duckdb");
        conn.execute_batch(
            "CREATE TABLE bundles (bundle_id VARCHAR, collected_at TIMESTAMP);
             INSERT INTO bundles VALUES ('b', TIMESTAMP '2026-01-15 12:00:00');
             CREATE TABLE timeline (bundle_id VARCHAR, cluster VARCHAR, ts TIMESTAMP, end_ts TIMESTAMP,
                 kind VARCHAR, severity VARCHAR, namespace VARCHAR, resource VARCHAR, node VARCHAR,
                 count BIGINT, summary VARCHAR, summary_zh VARCHAR, evidence_kind VARCHAR, evidence VARCHAR);",
        )
        .expect("tables");
        for i in 0..nodes {
            let severity = if i < high { "high" } else { "info" };
            conn.execute(
                "INSERT INTO timeline VALUES ('b', 'c', TIMESTAMP '2026-01-15 10:00:00' + to_seconds(?),
                     NULL, 'event', ?, NULL, 'node/n' || ?, 'node-' || lpad(?::VARCHAR, 3, '0'), 1,
                     's', 's', 'event', 'e' || ?)",
                params![i as i64, severity, i as i64, i as i64, i as i64],
            )
            .expect("row");
        }
        conn
    }

    #[test]
    fn folded_nodes_share_one_circle_per_column() {
        let conn = case_with_nodes(MAX_NODE_LANES + 12, 0);
        let section = build(&conn, Lang::En).expect("build").expect("section");
        assert_eq!(section.nodes_folded, 12);
        // One circle per shown node, one for the 12 folded nodes, five in the legend.
        assert_eq!(
            section.svg.matches("<circle").count(),
            MAX_NODE_LANES + 1 + 5
        );
        assert!(section.svg.contains("12 facts"), "{}", section.svg);
    }

    #[test]
    fn names_from_a_bundle_are_data_not_sql() {
        let conn = case_with_nodes(3, 0);
        conn.execute(
            "INSERT INTO timeline VALUES ('b', ?, TIMESTAMP '2026-01-15 11:00:00', NULL, 'event',
                 'high', NULL, 'node/x', ?, 1, 's', 's', 'event', 'x')",
            params!["c'); --", "n'\u{0}\"<x>"],
        )
        .expect("row");
        let section = build(&conn, Lang::En).expect("build").expect("section");
        // Two clusters: each its cluster-wide lane, then its nodes.
        assert_eq!(section.svg.matches(r#"class="lane""#).count(), 2 + 4);
        assert!(
            section.svg.contains("n&#39;\u{fffd}&quot;&lt;x&gt;"),
            "{}",
            section.svg
        );
        let bundles: i64 = conn
            .query_row("SELECT count(*) FROM bundles", [], |r| r.get(0))
            .expect("bundles still there");
        assert_eq!(bundles, 1);
    }

    #[test]
    fn the_densest_period_shows_its_notable_rows_first_then_in_time_order() {
        let conn = case_with_nodes(MAX_DENSEST_ROWS + 10, 3);
        let section = build(&conn, Lang::En).expect("build").expect("section");
        assert_eq!(section.densest_total, (MAX_DENSEST_ROWS + 10) as i64);
        assert_eq!(section.densest.len(), MAX_DENSEST_ROWS);
        let high: Vec<&str> = section
            .densest
            .iter()
            .filter(|r| r.severity == "high")
            .map(|r| r.node.as_str())
            .collect();
        assert_eq!(high, ["node-000", "node-001", "node-002"]);
        let times: Vec<&str> = section.densest.iter().map(|r| r.time.as_str()).collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted);
        // The info rows kept are the oldest ones.
        assert_eq!(section.densest.last().expect("rows").node, "node-039");
    }
}
