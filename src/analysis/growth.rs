//! How a quantity grows over three or more snapshots: linear, quadratic, exponential, bounded
//! (a plateau) or noise, fitted by least squares against the snapshots' steps (or times).

use serde::Serialize;

/// The shape of a growth series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// About the same amount per step.
    Linear,
    /// Each step adds more than the one before, by a constant amount.
    Quadratic,
    /// Each step multiplies the amount by a constant factor.
    Exponential,
    /// It grew, then stopped while the work went on: a plateau (a bounded cache, a warm-up).
    Bounded,
    /// It grew with the work, then held while the process was idle: nothing gave it back.
    Held,
    /// No consistent trend.
    Noise,
    /// Only two snapshots: growth is known, its shape is not.
    NeedsThirdSnapshot,
}

impl Pattern {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Linear => "linear",
            Pattern::Quadratic => "quadratic",
            Pattern::Exponential => "exponential",
            Pattern::Bounded => "bounded",
            Pattern::Held => "held",
            Pattern::Noise => "noise",
            Pattern::NeedsThirdSnapshot => "needs_third_snapshot",
        }
    }

    /// Whether this pattern means memory keeps growing.
    pub fn is_growing(self) -> bool {
        matches!(
            self,
            Pattern::Linear
                | Pattern::Quadratic
                | Pattern::Exponential
                | Pattern::Held
                | Pattern::NeedsThirdSnapshot
        )
    }
}

/// A fitted growth series.
#[derive(Debug, Clone, Serialize)]
pub struct Growth {
    /// The shape.
    pub pattern: Pattern,
    /// Bytes added per unit of `unit`, from the fit over the last interval's trend.
    pub bytes_per_step: f64,
    /// Objects added per unit of `unit`.
    pub objects_per_step: f64,
    /// What the x axis counts: `step` (the dumper's `step=`), `second`, or `snapshot`.
    pub unit: &'static str,
    /// Coefficient of determination of the chosen model on the bytes (1 is a perfect fit).
    pub fit: f64,
    /// Bytes the fit adds over the next 1,000,000 units (null when unbounded or not growing).
    pub projected_1m_steps: Option<f64>,
    /// Bytes added per wall-clock minute while it grew.
    pub per_minute: Option<f64>,
    /// Bytes added per CPU-second of the process.
    pub per_cpu_second: Option<f64>,
    /// Bytes the fit adds over the next `projection_horizon_seconds` of the same load.
    pub projected_bytes: Option<f64>,
    /// How far ahead `projected_bytes` looks: at most ten times the time it was seen growing.
    pub projection_horizon_seconds: Option<f64>,
    /// The growth in words, from the wall clock ("grew during 2 min of work, held for 5 min since ...").
    pub story: Option<String>,
    /// The series: x values.
    pub x: Vec<f64>,
    /// The series: bytes at each snapshot.
    pub bytes: Vec<f64>,
    /// The series: objects at each snapshot.
    pub objects: Vec<f64>,
}

/// Least-squares line through points: (intercept, slope, r²).
fn line(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let a = my - slope * mx;
    (a, slope, r2(y, |i| a + slope * x[i]))
}

/// r² of a model's predictions against `y`.
fn r2(y: &[f64], f: impl Fn(usize) -> f64) -> f64 {
    let n = y.len() as f64;
    let my = y.iter().sum::<f64>() / n;
    let tot: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
    let res: f64 = y.iter().enumerate().map(|(i, b)| (b - f(i)).powi(2)).sum();
    if tot <= 0.0 {
        if res <= 0.0 { 1.0 } else { 0.0 }
    } else {
        (1.0 - res / tot).max(0.0)
    }
}

/// Least-squares parabola `a + b x + c x²`: (a, b, c, r²). None when singular.
fn parabola(x: &[f64], y: &[f64]) -> Option<(f64, f64, f64, f64)> {
    // Centre x for conditioning.
    let mx = x.iter().sum::<f64>() / x.len() as f64;
    let u: Vec<f64> = x.iter().map(|v| v - mx).collect();
    let s = |p: i32| u.iter().map(|v| v.powi(p)).sum::<f64>();
    let t = |p: i32| u.iter().zip(y).map(|(v, w)| v.powi(p) * w).sum::<f64>();
    let m = [
        [x.len() as f64, s(1), s(2)],
        [s(1), s(2), s(3)],
        [s(2), s(3), s(4)],
    ];
    let r = [t(0), t(1), t(2)];
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    if d.abs() < 1e-12 {
        return None;
    }
    let solve = |col: usize| {
        let mut k = m;
        for (row, v) in k.iter_mut().zip(r) {
            row[col] = v;
        }
        det(&k) / d
    };
    let (a, b, c) = (solve(0), solve(1), solve(2));
    let fit = r2(y, |i| a + b * u[i] + c * u[i] * u[i]);
    // Back to uncentred coefficients.
    Some((a - b * mx + c * mx * mx, b - 2.0 * c * mx, c, fit))
}

/// The chosen model's bytes at the series' x values, to draw beside the observed ones: a
/// line, parabola or exponential at every x; for growth that held, the line through the
/// snapshots up to the first that reached the level it held at (only those); `None` for
/// shapes no single curve describes (bounded, noise) or too few points.
pub fn fitted(g: &Growth) -> Option<Vec<f64>> {
    let (x, y) = (&g.x, &g.bytes);
    if x.len() < 2 || x.len() != y.len() {
        return None;
    }
    match g.pattern {
        Pattern::Held => {
            let level = y[y.len() - 1];
            let k = y.iter().position(|&b| b >= 0.98 * level)? + 1;
            if k < 2 {
                return None;
            }
            let (a, b, _) = line(&x[..k], &y[..k]);
            Some(x[..k].iter().map(|v| a + b * v).collect())
        }
        Pattern::Linear | Pattern::NeedsThirdSnapshot => {
            let (a, b, _) = line(x, y);
            Some(x.iter().map(|v| a + b * v).collect())
        }
        Pattern::Quadratic => {
            let (a, b, c, _) = parabola(x, y)?;
            Some(x.iter().map(|v| a + b * v + c * v * v).collect())
        }
        Pattern::Exponential if y.iter().all(|&b| b > 0.0) => {
            let ly: Vec<f64> = y.iter().map(|b| b.ln()).collect();
            let (a, k, _) = line(x, &ly);
            Some(x.iter().map(|v| (a + k * v).exp()).collect())
        }
        _ => None,
    }
}

/// Fit bytes and objects against `x` (ascending, one value per snapshot). With snapshot
/// numbers for x (no steps, no times) nothing is projected: a snapshot is no unit of work.
pub fn fit(x: &[f64], bytes: &[f64], objects: &[f64], unit: &'static str) -> Growth {
    let mut g = fit_series(x, bytes, objects, unit);
    if unit == "snapshot" {
        g.projected_1m_steps = None;
    }
    g
}

fn fit_series(x: &[f64], bytes: &[f64], objects: &[f64], unit: &'static str) -> Growth {
    let n = x.len();
    let mut g = Growth {
        pattern: Pattern::Noise,
        bytes_per_step: 0.0,
        objects_per_step: 0.0,
        unit,
        fit: 0.0,
        projected_1m_steps: None,
        per_minute: None,
        per_cpu_second: None,
        projected_bytes: None,
        projection_horizon_seconds: None,
        story: None,
        x: x.to_vec(),
        bytes: bytes.to_vec(),
        objects: objects.to_vec(),
    };
    if n < 2 || x[n - 1] <= x[0] {
        return g;
    }
    let span = x[n - 1] - x[0];
    let total = bytes[n - 1] - bytes[0];
    g.objects_per_step = (objects[n - 1] - objects[0]) / span;
    if n == 2 {
        g.pattern = if total > 0.0 {
            Pattern::NeedsThirdSnapshot
        } else {
            Pattern::Noise
        };
        g.bytes_per_step = total / span;
        g.fit = 1.0;
        if total > 0.0 {
            g.projected_1m_steps = Some(g.bytes_per_step * 1e6);
        }
        return g;
    }
    let (_, slope, lin_r2) = line(x, bytes);
    let (_, oslope, _) = line(x, objects);
    g.objects_per_step = oslope;
    // Increments per unit of x, interval by interval.
    let rates: Vec<f64> = (1..n)
        .map(|i| (bytes[i] - bytes[i - 1]) / (x[i] - x[i - 1]).max(f64::MIN_POSITIVE))
        .collect();
    let scale = bytes.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    let first_rate = rates[0];
    let last_rate = rates[rates.len() - 1];
    let max_rate = rates.iter().fold(0.0f64, |m, &r| m.max(r));
    // Noise: no growth worth the name, or the series goes up and down.
    let falls = rates
        .iter()
        .filter(|&&r| r < -0.02 * max_rate.abs())
        .count();
    if total <= 0.0 || total < 0.01 * scale && total < 4096.0 || falls * 2 >= rates.len() {
        g.fit = lin_r2;
        return g;
    }
    // Bounded: it grew, then (nearly) stopped for the later half of the span. Judged on
    // halves, not on the last interval alone, so a leak that comes in bursts between many
    // snapshots is not taken for a plateau.
    let mid = x[0] + span / 2.0;
    let at_mid = {
        let i = x.iter().position(|&v| v >= mid).unwrap_or(n - 1).max(1);
        let t = (mid - x[i - 1]) / (x[i] - x[i - 1]).max(f64::MIN_POSITIVE);
        bytes[i - 1] + t * (bytes[i] - bytes[i - 1])
    };
    let (early, late) = (at_mid - bytes[0], bytes[n - 1] - at_mid);
    if early > 0.0 && late <= 0.1 * early {
        g.pattern = Pattern::Bounded;
        g.fit = lin_r2;
        g.bytes_per_step = last_rate.max(0.0);
        return g;
    }
    g.bytes_per_step = slope;
    g.fit = lin_r2;
    g.pattern = Pattern::Linear;
    // Accelerating: later intervals add clearly more per step than earlier ones. Against
    // CPU or wall time the bar is higher: the work a second buys varies (a service's first
    // requests pay for lazy imports and cold caches, the load's rate wanders), so a leak
    // that adds the same bytes per request can add half as much per second at first.
    let bar = if matches!(unit, "cpu_second" | "second") {
        2.0
    } else {
        1.5
    };
    let accelerating = first_rate > 0.0 && last_rate > bar * first_rate;
    if accelerating {
        let pos = bytes.iter().all(|&b| b > 0.0);
        let exp = pos.then(|| {
            let ly: Vec<f64> = bytes.iter().map(|b| b.ln()).collect();
            let (a, k, _) = line(x, &ly);
            (a, k, r2(bytes, |i| (a + k * x[i]).exp()))
        });
        let quad = parabola(x, bytes);
        // With three points a parabola fits exactly; then the series decides: for a * r^x
        // successive differences grow by the same factor as the values themselves.
        let ratio_const = n == 3 && rates[0] > 0.0 && bytes[0] > 0.0 && {
            let diff_ratio = rates[1] / rates[0];
            let span_ratio = (x[2] - x[1]) / (x[1] - x[0]);
            let value_ratio = (bytes[1] / bytes[0]).powf(span_ratio);
            (diff_ratio / value_ratio - 1.0).abs() < 0.25
        };
        match (quad, exp) {
            (Some((a, b, c, qr2)), Some((ea, ek, er2)))
                if (n >= 4 && er2 > qr2) || (n == 3 && ratio_const) =>
            {
                let _ = (a, b, c);
                g.pattern = Pattern::Exponential;
                g.fit = er2;
                let xl = x[n - 1];
                g.bytes_per_step = ek * (ea + ek * xl).exp();
            }
            (Some((_, b, c, qr2)), _) => {
                g.pattern = Pattern::Quadratic;
                g.fit = qr2;
                let xl = x[n - 1];
                g.bytes_per_step = b + 2.0 * c * xl;
                g.projected_1m_steps = Some(b * 1e6 + c * ((xl + 1e6).powi(2) - xl * xl));
                return g;
            }
            _ => {}
        }
        if g.pattern == Pattern::Exponential {
            return g;
        }
    }
    g.projected_1m_steps = Some(g.bytes_per_step * 1e6);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: &[f64], y: &[f64]) -> Growth {
        fit(x, y, y, "step")
    }

    #[test]
    fn shapes() {
        let x = [100.0, 200.0, 300.0, 400.0];
        assert_eq!(
            p(&x, &[1000.0, 2000.0, 3000.0, 4000.0]).pattern,
            Pattern::Linear
        );
        let lin = p(&x, &[1000.0, 2000.0, 3000.0, 4000.0]);
        assert!((lin.bytes_per_step - 10.0).abs() < 1e-9);
        assert_eq!(lin.projected_1m_steps, Some(10.0 * 1e6));
        let q: Vec<f64> = x.iter().map(|v| v * v).collect();
        assert_eq!(p(&x, &q).pattern, Pattern::Quadratic);
        let e: Vec<f64> = x.iter().map(|v| (v / 50.0f64).exp2()).collect();
        assert_eq!(p(&x, &e).pattern, Pattern::Exponential);
        assert_eq!(
            p(&x, &[1000.0, 5000.0, 5010.0, 5012.0]).pattern,
            Pattern::Bounded
        );
        assert_eq!(
            p(&x, &[5000.0, 5100.0, 4950.0, 5050.0]).pattern,
            Pattern::Noise
        );
        assert_eq!(
            p(&[1.0, 2.0], &[1.0, 2.0]).pattern,
            Pattern::NeedsThirdSnapshot
        );
        // Three points: linear, quadratic (differences grow by a constant) and exponential.
        let x3 = [1.0, 2.0, 3.0];
        assert_eq!(p(&x3, &[10.0, 20.0, 30.0]).pattern, Pattern::Linear);
        assert_eq!(p(&x3, &[10.0, 20.0, 40.0]).pattern, Pattern::Exponential);
        assert_eq!(p(&x3, &[100.0, 110.0, 130.0]).pattern, Pattern::Quadratic);
    }

    #[test]
    fn a_warm_up_on_a_clock_is_no_acceleration() {
        // a figure leak on CI, against the process's CPU seconds: the first requests paid
        // for cold caches, so bytes per CPU second rose 1.6x while bytes per request held
        let x = [0.886, 1.74, 4.26, 7.75, 12.01, 14.65];
        let y = [128.0, 4.56e6, 19.8e6, 44.2e6, 77.3e6, 99.5e6];
        assert_eq!(fit(&x, &y, &y, "cpu_second").pattern, Pattern::Linear);
        assert_eq!(fit(&x, &y, &y, "step").pattern, Pattern::Quadratic);
        let q: Vec<f64> = x.iter().map(|v| v * v * 1e6).collect();
        assert_eq!(fit(&x, &q, &q, "cpu_second").pattern, Pattern::Quadratic);
    }
}
