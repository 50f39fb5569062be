//! What growth is measured against, and what wall time says about it. The x axis is the
//! dumper's steps when the program counted its work itself, else the work the process did
//! (its CPU time) when every snapshot carries it, else wall-clock time, else only the
//! snapshot order. Measured against work, a leak that grew under load and held while idle
//! is a straight line, and a cache that filled to its bound while the work went on is a
//! plateau. Wall time then gives the rates a person reads (per minute of this load) and the
//! story ("grew during 2 min of work, held for 5 min since").

use super::growth::{self, Growth, Pattern};
use super::snap_diff::SnapInfo;

/// The clocks of a series of snapshots, oldest first.
#[derive(Debug, Clone)]
pub struct Axis {
    /// The values growth is fitted against.
    pub x: Vec<f64>,
    /// What `x` counts: `cpu_second`, `step`, `second` or `snapshot`.
    pub unit: &'static str,
    /// Wall-clock times (Unix seconds), when every snapshot has one and they increase.
    pub wall: Option<Vec<f64>>,
    /// The process's CPU seconds, when every snapshot has them.
    pub cpu: Option<Vec<f64>>,
}

/// Less CPU than this between the first and the last snapshot is no measure of work.
const MIN_CPU_SPAN: f64 = 0.05;

/// The axis for these snapshots.
pub fn axis(infos: &[SnapInfo]) -> Axis {
    let increasing = |v: &[f64]| v.windows(2).all(|w| w[1] > w[0]);
    let wall: Option<Vec<f64>> = infos
        .iter()
        .map(|i| i.time)
        .collect::<Option<Vec<f64>>>()
        .filter(|t| increasing(t));
    let cpu: Option<Vec<f64>> = infos
        .iter()
        .map(|i| i.cpu_seconds)
        .collect::<Option<Vec<f64>>>()
        .filter(|c| c.windows(2).all(|w| w[1] >= w[0]));
    let n = infos.len();
    let steps: Option<Vec<f64>> = infos.iter().map(|i| i.step.map(|s| s as f64)).collect();
    // `record` and `attach` number their snapshots: step N, labelled "interval (#N)". A
    // snapshot number is no work, and thinning leaves gaps in it.
    let numbered = |i: &SnapInfo| {
        i.step
            .zip(i.label.as_deref())
            .is_some_and(|(s, l)| l.ends_with(&format!("(#{s})")))
    };
    let counts_snapshots = infos.iter().all(numbered);
    if let Some(s) = steps.filter(|s| increasing(s) && !counts_snapshots) {
        return Axis {
            x: s,
            unit: "step",
            wall,
            cpu,
        };
    }
    if let Some(c) = cpu
        .as_ref()
        .filter(|c| n >= 2 && c[n - 1] - c[0] >= MIN_CPU_SPAN)
    {
        return Axis {
            x: c.clone(),
            unit: "cpu_second",
            wall,
            cpu,
        };
    }
    if let Some(t) = wall.clone() {
        return Axis {
            x: t,
            unit: "second",
            wall,
            cpu,
        };
    }
    Axis {
        x: (0..n).map(|i| i as f64).collect(),
        unit: "snapshot",
        wall,
        cpu,
    }
}

/// Fit `bytes` and `objects` over the axis, then read the wall clock: rates per minute of
/// work, a projection no longer than the evidence, and whether the growth held while idle.
pub fn fit(a: &Axis, bytes: &[f64], objects: &[f64]) -> Growth {
    let mut g = if a.unit == "cpu_second" {
        // snapshots taken while the process was idle sit at one x: the last one speaks
        let keep = merged(&a.x);
        let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let mut g = growth::fit(&pick(&a.x), &pick(bytes), &pick(objects), a.unit);
        g.x = a.x.clone();
        g.bytes = bytes.to_vec();
        g.objects = objects.to_vec();
        g
    } else {
        growth::fit(&a.x, bytes, objects, a.unit)
    };
    if a.unit != "step" {
        g.projected_1m_steps = None;
    }
    if a.unit == "cpu_second" && g.pattern.is_growing() {
        g.per_cpu_second = Some(g.bytes_per_step);
    }
    if let Some(wall) = &a.wall {
        read_wall(&mut g, wall, a.cpu.as_deref(), bytes);
    }
    g
}

/// Indices of the points to fit on the CPU axis: a run of snapshots less than 0.5% of the
/// CPU span apart (taken while the process was idle) is one point, its last snapshot.
fn merged(x: &[f64]) -> Vec<usize> {
    let n = x.len();
    let span = (x[n - 1] - x[0]).max(f64::MIN_POSITIVE);
    let mut keep: Vec<usize> = Vec::with_capacity(n);
    let mut run_start = 0usize;
    for i in 0..n {
        if i > 0 && x[i] - x[run_start] < 0.005 * span {
            if let Some(last) = keep.last_mut() {
                *last = i;
            }
        } else {
            keep.push(i);
            run_start = i;
        }
    }
    if keep.len() < 2 {
        (0..n).collect()
    } else {
        keep
    }
}

/// Wall-clock reading of a fitted series: how long it grew, how long it has held since,
/// bytes per minute while it grew, and a projection over a horizon the evidence carries.
fn read_wall(g: &mut Growth, wall: &[f64], cpu: Option<&[f64]>, bytes: &[f64]) {
    let n = bytes.len();
    if n < 2 || !g.pattern.is_growing() {
        return;
    }
    let total = bytes[n - 1] - bytes[0];
    if total <= 0.0 {
        return;
    }
    // the intervals that added bytes, and the last one of them
    let grew: Vec<usize> = (1..n)
        .filter(|&i| bytes[i] - bytes[i - 1] > 0.02 * total)
        .collect();
    let Some(&last) = grew.last() else { return };
    let grew_for: f64 = grew.iter().map(|&i| wall[i] - wall[i - 1]).sum();
    let held_for = wall[n - 1] - wall[last];
    let span = wall[n - 1] - wall[0];
    if grew_for > 0.0 {
        g.per_minute = Some((bytes[last] - bytes[0]) / grew_for * 60.0);
    }
    let idle_since = match cpu {
        Some(c) => {
            let worked = (c[last] - c[0]).max(f64::MIN_POSITIVE);
            c[n - 1] - c[last] <= 0.1 * worked
        }
        None => false,
    };
    let stayed = bytes[last..].iter().all(|&b| b >= 0.9 * bytes[last]);
    if n - 1 - last >= 2 && held_for >= 0.2 * span && idle_since && stayed && n >= 3 {
        g.pattern = Pattern::Held;
        g.story = Some(format!(
            "grew during {} of work, held for {} since while the process was idle",
            duration(grew_for),
            duration(held_for)
        ));
    } else if grew_for > 0.0 {
        g.story = Some(format!(
            "grew during {} of the {} observed",
            duration(grew_for),
            duration(span)
        ));
    }
    // a projection only from a good fit, and never further ahead than ten times the time
    // it was seen growing (at most an hour)
    if let Some(rate) = g.per_minute
        && g.projected_1m_steps.is_none()
        && g.fit >= 0.8
        && n >= 3
        && g.pattern != Pattern::Exponential
    {
        let horizon = (10.0 * grew_for).min(3600.0);
        if horizon >= 60.0 {
            g.projected_bytes = Some(rate / 60.0 * horizon);
            g.projection_horizon_seconds = Some(horizon);
        }
    }
}

/// `45 s`, `12 min`, `2.5 h`.
pub fn duration(s: f64) -> String {
    if s < 90.0 {
        format!("{:.0} s", s)
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(t: f64, cpu: Option<f64>, step: Option<i64>) -> SnapInfo {
        SnapInfo {
            step,
            time: Some(t),
            cpu_seconds: cpu,
            ..SnapInfo::default()
        }
    }

    /// A service under `record`: a quiet baseline, 2 minutes of load that leaks, 5 quiet
    /// minutes.
    fn service(bytes_of: impl Fn(usize) -> f64) -> (Axis, Vec<f64>) {
        let mut infos = Vec::new();
        let mut bytes = Vec::new();
        for k in 0..20 {
            let t = 1000.0 + 20.0 * k as f64;
            // load from snapshot 2 to 8, 0.5 CPU-s per 20 s; idle otherwise (a few ms)
            let cpu = 1.0 + 0.5 * (k.clamp(2, 8) - 2) as f64 + 0.002 * k as f64;
            infos.push(SnapInfo {
                label: Some(format!("interval (#{})", k + 1)),
                ..info(t, Some(cpu), Some(k as i64 + 1))
            });
            bytes.push(bytes_of(k));
        }
        (axis(&infos), bytes)
    }

    #[test]
    fn a_leak_that_held_after_the_load_is_growth_against_work() {
        let (a, bytes) = service(|k| 1e6 + 1e5 * (k.clamp(2, 8) - 2) as f64);
        assert_eq!(a.unit, "cpu_second");
        let g = fit(&a, &bytes, &bytes);
        assert_eq!(g.pattern, Pattern::Held, "{g:?}");
        let story = g.story.clone().unwrap_or_default();
        assert!(
            story.starts_with("grew during 2 min of work, held for 4 min"),
            "{story}"
        );
        // 600 kB over 120 s of load
        assert!((g.per_minute.unwrap_or(0.0) - 3e5).abs() < 1.0, "{g:?}");
        assert!((g.per_cpu_second.unwrap_or(0.0) - 2e5).abs() < 2e4, "{g:?}");
        assert_eq!(g.projected_1m_steps, None);
        assert!(g.projection_horizon_seconds.unwrap_or(0.0) <= 1200.0);
    }

    #[test]
    fn a_cache_that_filled_while_work_went_on_is_bounded() {
        // load all along; the cache is full after the third snapshot
        let infos: Vec<SnapInfo> = (0..10)
            .map(|k| info(1000.0 + 20.0 * k as f64, Some(1.0 + 0.5 * k as f64), None))
            .collect();
        let bytes: Vec<f64> = (0..10).map(|k| 1e6 + 1e5 * (k.min(3)) as f64).collect();
        let g = fit(&axis(&infos), &bytes, &bytes);
        assert_eq!(g.pattern, Pattern::Bounded, "{g:?}");
    }

    #[test]
    fn steady_growth_under_steady_load_is_linear_with_a_projection() {
        let infos: Vec<SnapInfo> = (0..10)
            .map(|k| info(1000.0 + 60.0 * k as f64, Some(1.0 + 3.0 * k as f64), None))
            .collect();
        let bytes: Vec<f64> = (0..10).map(|k| 1e6 + 1e5 * k as f64).collect();
        let g = fit(&axis(&infos), &bytes, &bytes);
        assert_eq!(g.pattern, Pattern::Linear);
        assert!((g.per_minute.unwrap_or(0.0) - 1e5).abs() < 1.0);
        // seen growing for 9 minutes: projected over the next hour at most
        assert_eq!(g.projection_horizon_seconds, Some(3600.0));
        assert!((g.projected_bytes.unwrap_or(0.0) - 6e6).abs() < 1.0);
    }

    #[test]
    fn snapshot_numbers_are_not_steps() {
        let recorded = |seqs: &[i64]| -> Vec<SnapInfo> {
            seqs.iter()
                .map(|&k| SnapInfo {
                    label: Some(format!("interval (#{k})")),
                    ..info(1000.0 + 2.0 * k as f64, None, Some(k))
                })
                .collect()
        };
        assert_eq!(axis(&recorded(&[1, 2, 3, 4])).unit, "second");
        // a series thinned by rotation still counts snapshots, not work
        assert_eq!(axis(&recorded(&[1, 3, 4, 5, 7])).unit, "second");
        // steps the program passed itself are its work, even 1, 2, 3
        let infos: Vec<SnapInfo> = (0..4)
            .map(|k| info(1000.0 + 2.0 * k as f64, None, Some(k + 1)))
            .collect();
        assert_eq!(axis(&infos).unit, "step");
        let infos: Vec<SnapInfo> = (0..4)
            .map(|k| info(1000.0 + 2.0 * k as f64, None, Some(100 * (k + 1))))
            .collect();
        assert_eq!(axis(&infos).unit, "step");
    }
}
