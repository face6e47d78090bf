//! The JSON rendering: the model as one pretty-printed document, so scripts get exactly the
//! content the markdown shows, under the field names of [`super::model`].

use super::model::Report;

/// One JSON document, ending in a newline.
pub(super) fn render(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // The model holds only strings, numbers and maps; a non-finite float is the one way to
        // fail, and serde_json writes those as null, so this is unreachable in practice. Still,
        // say so in the document's own shape rather than panic.
        Err(e) => format!(
            "{{\"error\":{}}}\n",
            serde_json::Value::String(e.to_string())
        ),
    }
}
