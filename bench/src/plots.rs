//! The report's figures, drawn as SVG (GitHub renders them): cold starts against the
//! baseline, the local end-to-end latency, and the zips against their goal.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

const SIZE: (u32, u32) = (900, 480);

fn palette(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 6] = [
        RGBColor(90, 90, 90),
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
    ];
    COLORS[i % COLORS.len()]
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect()
}

/// The empirical distribution of sorted samples: (value, fraction at or below it).
fn cdf(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (*x, (i + 1) as f64 / n))
        .collect()
}

/// Draws the legend where asked and writes the figure out.
fn finish<'a>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    legend: SeriesLabelPosition,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn draw_cdfs(
    path: &Path,
    caption: &str,
    x_label: &str,
    series: &[(String, Vec<f64>)],
) -> anyhow::Result<()> {
    let x_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        * 1.05;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..x_max.max(1e-9), 0.0..1.0)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("fraction at or below")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, (name, samples)) in series.iter().enumerate() {
        let color = palette(i);
        chart
            .draw_series(LineSeries::new(cdf(samples), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    finish(&mut chart, &root, SeriesLabelPosition::LowerRight)
}

/// Cold start (process start → ready) of every function, the baseline first.
pub fn cold_starts(report: &Value, path: &Path) -> anyhow::Result<()> {
    let series: Vec<(String, Vec<f64>)> = report["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["function"].as_str().unwrap_or("?").to_owned(),
                numbers(&f["cold_start"]["ready_ms"]),
            )
        })
        .collect();
    draw_cdfs(
        path,
        "Cold start: process start → ready for work",
        "milliseconds",
        &series,
    )
}

/// POST → final status of every order of the local end-to-end run.
pub fn end_to_end(report: &Value, path: &Path) -> anyhow::Result<()> {
    let e = &report["end_to_end"];
    let name = format!(
        "{} orders, {} at a time, wait 0",
        e["orders"], e["concurrency"]
    );
    draw_cdfs(
        path,
        "Local pipeline: POST → final status",
        "seconds",
        &[(name, numbers(&e["post_to_final_s"]))],
    )
}

/// Each function's zip per architecture, against the goal.
pub fn zips(report: &Value, goal_bytes: u64, path: &Path) -> anyhow::Result<()> {
    let functions: Vec<&Value> = report["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let goal = goal_bytes as f64 / 1e6;
    let largest = functions
        .iter()
        .flat_map(|f| ["x86_64", "arm64"].map(|a| f["zip_bytes"][a].as_f64().unwrap_or(0.0)))
        .fold(goal * 1e6, f64::max)
        / 1e6;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let names: Vec<String> = functions
        .iter()
        .map(|f| f["function"].as_str().unwrap_or("?").to_owned())
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .caption("Deployment zips (goal: under 3 MB)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..names.len() as f64, 0.0..largest * 1.15)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("MB")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    // Each function's name above its pair of bars: an axis would label only some of them.
    let label = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(
            functions
                .iter()
                .zip(&names)
                .enumerate()
                .map(|(i, (f, name))| {
                    let top = ["x86_64", "arm64"]
                        .iter()
                        .filter_map(|a| f["zip_bytes"][a].as_f64())
                        .fold(0.0, f64::max)
                        / 1e6;
                    Text::new(
                        name.clone(),
                        (i as f64 + 0.5, top + largest * 0.02),
                        label.clone(),
                    )
                }),
        )
        .map_err(|e| anyhow!("{e}"))?;
    for (a, architecture) in ["x86_64", "arm64"].iter().enumerate() {
        let color = palette(a + 1);
        let bars = functions.iter().enumerate().filter_map(|(i, f)| {
            let mb = f["zip_bytes"][architecture].as_f64()? / 1e6;
            let left = i as f64 + 0.1 + 0.4 * a as f64;
            Some(Rectangle::new(
                [(left, 0.0), (left + 0.38, mb)],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)
            .map_err(|e| anyhow!("{e}"))?
            .label(*architecture)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, goal), (names.len() as f64, goal)],
            RED.stroke_width(2),
        ))
        .map_err(|e| anyhow!("{e}"))?
        .label("goal")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RED.stroke_width(2)));
    finish(&mut chart, &root, SeriesLabelPosition::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distribution_climbs_to_one() {
        assert_eq!(
            cdf(&[1.0, 2.0, 4.0, 8.0]),
            [(1.0, 0.25), (2.0, 0.5), (4.0, 0.75), (8.0, 1.0)]
        );
    }

    #[test]
    fn every_figure_is_an_svg_naming_what_it_shows() {
        let report = serde_json::json!({
            "functions": [
                {"function": "orders-baseline", "zip_bytes": {"x86_64": 700000, "arm64": 650000},
                 "cold_start": {"ready_ms": [1.0, 1.2, 1.5]}},
                {"function": "start-order", "zip_bytes": {"x86_64": 2900000, "arm64": null},
                 "cold_start": {"ready_ms": [2.0, 2.5, 3.0]}},
            ],
            "end_to_end": {"orders": 3, "concurrency": 1, "post_to_final_s": [0.5, 0.7, 0.9]},
        });
        let dir = std::env::temp_dir().join(format!("plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        cold_starts(&report, &dir.join("cold.svg")).unwrap();
        end_to_end(&report, &dir.join("e2e.svg")).unwrap();
        zips(&report, 3_000_000, &dir.join("zips.svg")).unwrap();
        let cold = std::fs::read_to_string(dir.join("cold.svg")).unwrap();
        assert!(cold.starts_with("<svg") && cold.contains("start-order"));
        assert!(
            std::fs::read_to_string(dir.join("e2e.svg"))
                .unwrap()
                .contains("3 orders")
        );
        let zips = std::fs::read_to_string(dir.join("zips.svg")).unwrap();
        assert!(zips.contains("arm64") && zips.contains("goal"));
        assert!(zips.contains("orders-baseline") && zips.contains("start-order"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
