//! Charts as SVG drawn on the server: no JavaScript, no library, nothing loaded
//! from elsewhere. Every chart has a visible title, axis labels, and a
//! `<title>`/`<desc>` for screen readers; the page shows the same numbers in a
//! table beside it. Colours come from CSS classes (`static/style.css`), so the
//! dark theme and print restyle them; text uses `currentColor`.
//!
//! The markup is built here with every piece of text escaped, and inserted into
//! templates with `| safe`.
use std::fmt::Write;

/// One series of values, one per label.
pub struct Series<'a> {
    pub name: &'a str,
    /// A CSS class (`s1` … `s5`, `up`, `down`, `total`) that sets its colour.
    pub class: &'a str,
    pub values: Vec<i64>,
}

/// A step of a waterfall: a total (drawn from zero) or a change (drawn from the
/// running total).
pub struct Step<'a> {
    pub label: &'a str,
    pub value: i64,
    pub total: bool,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 58.0;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Axis bounds that include zero and every value, widened to a round step.
fn scale(values: impl Iterator<Item = i64>) -> (i64, i64, i64) {
    let (mut lo, mut hi) = (0_i64, 0_i64);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo == hi {
        hi = lo + 1;
    }
    let raw = (hi - lo) as f64 / 4.0;
    let magnitude = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    let step = (step.ceil() as i64).max(1);
    (lo.div_euclid(step) * step, -((-hi).div_euclid(step)) * step, step)
}

struct Frame {
    lo: i64,
    hi: i64,
    n: usize,
}

impl Frame {
    fn y(&self, v: i64) -> f64 {
        let plot = HEIGHT - TOP - BOTTOM;
        TOP + plot * (self.hi - v) as f64 / (self.hi - self.lo) as f64
    }
    fn band(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.n.max(1) as f64
    }
    fn x(&self, i: usize) -> f64 {
        LEFT + self.band() * (i as f64 + 0.5)
    }
}

/// The frame: `<svg>` with title and description, grid lines with their values,
/// x labels (thinned to fit) and both axis labels.
#[allow(clippy::too_many_arguments)]
fn open(
    out: &mut String,
    id: &str,
    title: &str,
    desc: &str,
    x_axis: &str,
    y_axis: &str,
    labels: &[String],
    frame: &Frame,
    step: i64,
    fmt: &dyn Fn(i64) -> String,
) {
    let id = esc(id);
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    let mut v = frame.lo;
    while v <= frame.hi {
        let y = frame.y(v);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&fmt(v))
        );
        v += step;
    }
    // At most about twelve labels, the last always: a regular one too close to it
    // gives way (36 months drew "2026-10" over "2026-12").
    let every = labels.len().div_ceil(12).max(1);
    let last = labels.len().saturating_sub(1);
    for (i, label) in labels.iter().enumerate() {
        if i != last && (i % every != 0 || i + every > last) {
            continue;
        }
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            frame.x(i),
            HEIGHT - BOTTOM + 16.0,
            esc(label)
        );
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{z:.1}\" y2=\"{z:.1}\"/>\
         <text class=\"axis-label\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text class=\"axis-label\" transform=\"rotate(-90)\" x=\"{:.1}\" y=\"14\" text-anchor=\"middle\">{}</text>",
        WIDTH - RIGHT,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 8.0,
        esc(x_axis),
        -(TOP + (HEIGHT - TOP - BOTTOM) / 2.0),
        esc(y_axis),
        z = frame.y(0),
    );
}

fn legend(out: &mut String, series: &[Series<'_>]) {
    let mut x = LEFT;
    for s in series {
        let _ = write!(
            out,
            "<rect class=\"{}\" x=\"{x:.1}\" y=\"{}\" width=\"10\" height=\"10\"/>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{}\">{}</text>",
            esc(s.class),
            HEIGHT - 30.0,
            x + 14.0,
            HEIGHT - 21.0,
            esc(s.name)
        );
        x += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
}

/// Lines over months (one per series), with a dot on each value.
pub fn line(
    id: &str,
    title: &str,
    desc: &str,
    (x_axis, y_axis): (&str, &str),
    labels: &[String],
    series: &[Series<'_>],
    fmt: &dyn Fn(i64) -> String,
) -> String {
    let (lo, hi, step) = scale(series.iter().flat_map(|s| s.values.iter().copied()));
    let frame = Frame { lo, hi, n: labels.len() };
    let mut out = String::new();
    open(&mut out, id, title, desc, x_axis, y_axis, labels, &frame, step, fmt);
    for s in series {
        let points: Vec<String> =
            s.values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", frame.x(i), frame.y(*v))).collect();
        let _ =
            write!(out, "<polyline class=\"line {}\" fill=\"none\" points=\"{}\"/>", esc(s.class), points.join(" "));
        for (i, v) in s.values.iter().enumerate() {
            let _ = write!(
                out,
                "<circle class=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>{}: {}</title></circle>",
                esc(s.class),
                frame.x(i),
                frame.y(*v),
                esc(labels.get(i).map_or("", String::as_str)),
                esc(&fmt(*v))
            );
        }
    }
    if series.len() > 1 {
        legend(&mut out, series);
    }
    out.push_str("</svg>");
    out
}

/// Bars side by side per label, one per series (values may be negative).
pub fn bars(
    id: &str,
    title: &str,
    desc: &str,
    (x_axis, y_axis): (&str, &str),
    labels: &[String],
    series: &[Series<'_>],
    fmt: &dyn Fn(i64) -> String,
) -> String {
    let (lo, hi, step) = scale(series.iter().flat_map(|s| s.values.iter().copied()));
    let frame = Frame { lo, hi, n: labels.len() };
    let mut out = String::new();
    open(&mut out, id, title, desc, x_axis, y_axis, labels, &frame, step, fmt);
    let width = frame.band() * 0.8 / series.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        for (i, v) in s.values.iter().enumerate() {
            let x = frame.x(i) - frame.band() * 0.4 + width * k as f64;
            let (y0, y1) = (frame.y(0), frame.y(*v));
            let _ = write!(
                out,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{} {}: {}</title></rect>",
                esc(s.class),
                y0.min(y1),
                (width - 1.0).max(1.0),
                (y0 - y1).abs(),
                esc(s.name),
                esc(labels.get(i).map_or("", String::as_str)),
                esc(&fmt(*v))
            );
        }
    }
    legend(&mut out, series);
    out.push_str("</svg>");
    out
}

/// A waterfall: totals from zero, changes floating from the running total (up
/// for gains, down for losses).
pub fn waterfall(
    id: &str,
    title: &str,
    desc: &str,
    (x_axis, y_axis): (&str, &str),
    steps: &[Step<'_>],
    fmt: &dyn Fn(i64) -> String,
) -> String {
    let mut running = 0;
    let mut spans = Vec::new();
    for s in steps {
        let (from, to) = if s.total { (0, s.value) } else { (running, running + s.value) };
        running = to;
        spans.push((from, to));
    }
    let (lo, hi, step) = scale(spans.iter().flat_map(|(a, b)| [*a, *b]));
    let frame = Frame { lo, hi, n: steps.len() };
    let labels: Vec<String> = steps.iter().map(|s| s.label.to_string()).collect();
    let mut out = String::new();
    open(&mut out, id, title, desc, x_axis, y_axis, &labels, &frame, step, fmt);
    for (i, (s, (from, to))) in steps.iter().zip(&spans).enumerate() {
        let class = if s.total {
            "total"
        } else if s.value >= 0 {
            "up"
        } else {
            "down"
        };
        let (y0, y1) = (frame.y(*from), frame.y(*to));
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect>",
            frame.x(i) - frame.band() * 0.35,
            y0.min(y1),
            frame.band() * 0.7,
            (y0 - y1).abs().max(1.0),
            esc(s.label),
            esc(&fmt(s.value))
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_text_and_carry_title_and_desc() {
        let labels = vec!["Jan <2026>".to_string(), "Feb".to_string()];
        let svg = line(
            "mrr",
            "MRR & more",
            "Two months",
            ("Month", "EUR"),
            &labels,
            &[Series { name: "MRR", class: "s1", values: vec![100, 250] }],
            &|v| v.to_string(),
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title id=\"mrr-t\">MRR &amp; more</title>"));
        assert!(svg.contains("<desc id=\"mrr-d\">Two months</desc>"));
        assert!(svg.contains("Jan &lt;2026&gt;"));
        assert!(!svg.contains("<2026>"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn month_labels_are_thinned_and_the_last_never_overlaps_another() {
        let labels: Vec<String> = (1..=36).map(|m| format!("m{m:02}")).collect();
        let series = [Series { name: "MRR", class: "s1", values: vec![1; 36] }];
        let svg = line("mrr", "MRR", "36 months", ("Month", "EUR"), &labels, &series, &|v| v.to_string());
        let shown: Vec<&String> = labels.iter().filter(|l| svg.contains(&format!(">{l}</text>"))).collect();
        let shown: Vec<&str> = shown.iter().map(|s| s.as_str()).collect();
        assert_eq!(shown, ["m01", "m04", "m07", "m10", "m13", "m16", "m19", "m22", "m25", "m28", "m31", "m36"]);
        let few: Vec<String> = (1..=5).map(|m| format!("m{m:02}")).collect();
        let svg = line("f", "F", "5", ("Month", "EUR"), &few, &series, &|v| v.to_string());
        assert!(few.iter().all(|l| svg.contains(&format!(">{l}</text>"))), "every label of a short chart");
    }

    #[test]
    fn scales_include_zero_and_every_value() {
        let (lo, hi, step) = scale([-120, 980].into_iter());
        assert!(lo <= -120 && hi >= 980 && step > 0);
        assert_eq!((hi - lo) % step, 0);
        assert_eq!(scale(std::iter::empty()), (0, 1, 1));
    }
}
