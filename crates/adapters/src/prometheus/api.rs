//! The Prometheus HTTP API's JSON, parsed into plain series. Kept apart from the client so the
//! parsing (the part that sees whatever a server or proxy sends back) is tested on its own.

use serde::Deserialize;

/// One time series of a range query: its labels and `(unix seconds, value)` points in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Label set as returned (`{"service":"api","cohort":"canary"}`).
    pub labels: Vec<(String, String)>,
    /// Points, oldest first. Non-finite values (`NaN`, `±Inf`) are kept: a division by zero in a
    /// query is information, and the caller decides what it means.
    pub points: Vec<(f64, f64)>,
}

/// Why an API answer could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The server said `"status":"error"`: a bad query, a timeout, too many points.
    #[error("Prometheus rejected the query ({kind}): {message}")]
    Rejected {
        /// `errorType` (`bad_data`, `timeout`, `execution`…).
        kind: String,
        /// `error`, the server's own words.
        message: String,
    },
    /// Not the API's JSON at all (a proxy's HTML page, a truncated body).
    #[error("not a Prometheus API answer: {0}")]
    Malformed(String),
    /// A result type this client does not read.
    #[error("Prometheus answered with a `{0}` result; expected a vector or matrix")]
    UnexpectedType(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
    #[serde(default)]
    value: Option<(f64, String)>,
}

fn parse_value(s: &str) -> Result<f64, ApiError> {
    // Prometheus writes special floats as Go does.
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse::<f64>()
            .map_err(|_| ApiError::Malformed(format!("sample value `{s}` is not a number"))),
    }
}

/// Parse the body of `/api/v1/query` or `/api/v1/query_range` into series. An instant vector
/// comes back as one point per series; a scalar as one unlabeled series.
pub fn parse_response(body: &[u8]) -> Result<Vec<Series>, ApiError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        let head: String = String::from_utf8_lossy(&body[..body.len().min(120)]).into();
        ApiError::Malformed(format!("{e}; body starts with {head:?}"))
    })?;
    if env.status != "success" {
        return Err(ApiError::Rejected {
            kind: env.error_type.unwrap_or_else(|| "unknown".into()),
            message: env.error.unwrap_or_else(|| "no message".into()),
        });
    }
    let data = env
        .data
        .ok_or_else(|| ApiError::Malformed("`status` is success but `data` is missing".into()))?;
    match data.result_type.as_str() {
        "matrix" | "vector" => {
            let raw: Vec<RawSeries> = serde_json::from_value(data.result)
                .map_err(|e| ApiError::Malformed(format!("result: {e}")))?;
            raw.into_iter()
                .map(|r| {
                    let mut points = Vec::with_capacity(r.values.len().max(1));
                    for (t, v) in r.values.iter().chain(r.value.iter()) {
                        points.push((*t, parse_value(v)?));
                    }
                    Ok(Series {
                        labels: r.metric.into_iter().collect(),
                        points,
                    })
                })
                .collect()
        }
        "scalar" => {
            let (t, v): (f64, String) = serde_json::from_value(data.result)
                .map_err(|e| ApiError::Malformed(format!("scalar: {e}")))?;
            Ok(vec![Series {
                labels: Vec::new(),
                points: vec![(t, parse_value(&v)?)],
            }])
        }
        other => Err(ApiError::UnexpectedType(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"service":"api"},"values":[[1700000000,"1.5"],[1700000001,"NaN"],[1700000002,"+Inf"]]}]}}"#;
        let s = parse_response(body).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels, vec![("service".into(), "api".into())]);
        assert_eq!(s[0].points[0], (1_700_000_000.0, 1.5));
        assert!(s[0].points[1].1.is_nan());
        assert_eq!(s[0].points[2].1, f64::INFINITY);
    }

    #[test]
    fn vector_and_scalar() {
        let v = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,"42"]}]}}"#;
        assert_eq!(
            parse_response(v).unwrap()[0].points,
            vec![(1_700_000_000.5, 42.0)]
        );
        let s = br#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#;
        assert_eq!(
            parse_response(s).unwrap()[0].points,
            vec![(1_700_000_000.0, 3.0)]
        );
    }

    #[test]
    fn errors_say_what_the_server_said() {
        let e = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        assert_eq!(
            parse_response(e).unwrap_err().to_string(),
            "Prometheus rejected the query (bad_data): parse error at char 5"
        );
        let html = b"<html><body>502 Bad Gateway</body></html>";
        let msg = parse_response(html).unwrap_err().to_string();
        assert!(
            msg.contains("not a Prometheus API answer") && msg.contains("502"),
            "{msg}"
        );
        let bad = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#;
        assert!(parse_response(bad).unwrap_err().to_string().contains("`x`"));
        let str_ty = br#"{"status":"success","data":{"resultType":"string","result":[1,"a"]}}"#;
        assert!(matches!(
            parse_response(str_ty),
            Err(ApiError::UnexpectedType(_))
        ));
    }
}
