//! `--record FILE.cast`: tee everything the cockpit draws into an asciicast v2 file, so a demo can
//! be replayed with `asciinema play` or embedded with asciinema-player, without screen capture.
//!
//! asciicast v2 (<https://docs.asciinema.org/manual/asciicast/v2/>) is newline-delimited JSON: a
//! header object, then one `[seconds, code, data]` array per event, `"o"` for output and `"r"`
//! (`"WxH"`) for a resize. ratatui flushes its backend once per frame, so one flush becomes one
//! `"o"` event and a replay shows whole frames, never half-drawn ones.
//!
//! A failing cast file (disk full, removed mount) must not take the cockpit down mid-incident:
//! the recorder then stops recording, keeps passing output through, and reports the error through
//! [`CastRecorder::error`] and [`CastRecorder::finish`].

use std::io::{self, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of "seconds since the recording started"; injectable so tests are deterministic.
pub type Clock = Box<dyn FnMut() -> f64 + Send>;

/// Tees everything the terminal backend writes into a cast file, so a demo can be replayed with
/// asciinema. Wrap the backend's writer (e.g. `CrosstermBackend::new(CastRecorder::new(stdout(),
/// file, w, h, "ccp demo")?)`) and call [`CastRecorder::resize`] on terminal resize events.
pub struct CastRecorder<W: Write> {
    inner: W,
    /// `None` once writing the cast failed: recording stops, the terminal keeps working.
    cast: Option<Box<dyn Write + Send>>,
    error: Option<io::Error>,
    /// Bytes written since the last flush (plus an incomplete UTF-8 tail carried over).
    pending: Vec<u8>,
    clock: Clock,
    /// Last event time written, so event times never go backwards even if the clock does.
    last_t: f64,
}

impl<W: Write> CastRecorder<W> {
    /// Start a recording: writes the asciicast header (size, wall-clock start, `TERM`/`SHELL`,
    /// title) to `cast` and times events from now.
    pub fn new(
        inner: W,
        cast: impl Write + Send + 'static,
        width: u16,
        height: u16,
        title: &str,
    ) -> io::Result<Self> {
        let start = Instant::now();
        Self::new_with_clock(
            inner,
            cast,
            width,
            height,
            title,
            Box::new(move || start.elapsed().as_secs_f64()),
        )
    }

    /// Like [`CastRecorder::new`] but with event times from `clock` (seconds since start), so
    /// tests and replays of recorded runs can control timing.
    pub fn new_with_clock(
        inner: W,
        cast: impl Write + Send + 'static,
        width: u16,
        height: u16,
        title: &str,
        clock: Clock,
    ) -> io::Result<Self> {
        let mut cast: Box<dyn Write + Send> = Box::new(cast);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let env_or = |key: &str, default: &str| {
            std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let header = serde_json::json!({
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": timestamp,
            "env": {
                "TERM": env_or("TERM", "xterm-256color"),
                "SHELL": env_or("SHELL", "/bin/sh"),
            },
            "title": title,
        });
        // One `write_all` per line: a line is never interleaved or split by our own code.
        cast.write_all(format!("{header}\n").as_bytes())?;
        cast.flush()?;
        Ok(CastRecorder {
            inner,
            cast: Some(cast),
            error: None,
            pending: Vec::new(),
            clock,
            last_t: 0.0,
        })
    }

    /// Record a terminal resize as an `"r"` event, so the replay changes size where the live
    /// terminal did. Returns the error if writing this event fails (recording then stops).
    pub fn resize(&mut self, width: u16, height: u16) -> io::Result<()> {
        self.event("r", &format!("{width}x{height}"))
    }

    /// The first error writing the cast file, after which recording stopped. The terminal output
    /// itself was never affected; the cockpit shows this once so a lost recording is not a
    /// surprise afterwards.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Record any output not yet flushed and flush the cast file; call before exiting. Returns
    /// the recording error, if any occurred at any point, so the caller can report it.
    pub fn finish(&mut self) -> io::Result<()> {
        self.record_pending(true);
        if let Some(cast) = self.cast.as_mut() {
            if let Err(e) = cast.flush() {
                self.fail(e);
            }
        }
        match &self.error {
            Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
            None => Ok(()),
        }
    }

    /// The wrapped terminal writer, e.g. to query it.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The wrapped terminal writer, mutably (writes through it bypass the recording).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Seconds since start for the next event: never NaN, negative or earlier than the last one.
    fn now(&mut self) -> f64 {
        let t = (self.clock)();
        if t.is_finite() && t > self.last_t {
            // Microsecond resolution is what asciinema itself writes; it keeps the file small.
            self.last_t = (t * 1e6).round() / 1e6;
        }
        self.last_t
    }

    /// Append one `[t, code, data]` line (a no-op once recording has stopped).
    fn event(&mut self, code: &str, data: &str) -> io::Result<()> {
        if self.cast.is_none() {
            return Ok(());
        }
        let t = self.now();
        let mut line = serde_json::to_string(&(t, code, data)).map_err(io::Error::other)?;
        line.push('\n');
        let Some(cast) = self.cast.as_mut() else {
            return Ok(());
        };
        cast.write_all(line.as_bytes()).map_err(|e| {
            let copy = io::Error::new(e.kind(), e.to_string());
            self.fail(e);
            copy
        })
    }

    /// Stop recording, remembering the first error.
    fn fail(&mut self, e: io::Error) {
        self.cast = None;
        self.pending.clear();
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Turn the pending bytes into one `"o"` event. An incomplete UTF-8 sequence at the end is
    /// kept for the next event (a frame may end mid-character) unless `final_` is set; bytes that
    /// can never be valid UTF-8 become U+FFFD.
    fn record_pending(&mut self, final_: bool) {
        if self.cast.is_none() || self.pending.is_empty() {
            self.pending.clear();
            return;
        }
        let (data, tail) = decode(&self.pending, final_);
        let tail = tail.to_vec();
        self.pending = tail;
        if !data.is_empty() {
            // The error is latched by `event`; output keeps flowing.
            let _ = self.event("o", &data);
        }
    }
}

/// Decode `bytes` as UTF-8: (text, incomplete trailing sequence). Invalid bytes become U+FFFD;
/// with `final_` an incomplete tail is decoded (lossily) too.
fn decode(bytes: &[u8], final_: bool) -> (String, &[u8]) {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return (out, &[]);
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // `valid_up_to` marks a valid prefix, so this is Ok; lossy keeps it total anyway.
                out.push_str(&String::from_utf8_lossy(valid));
                match e.error_len() {
                    Some(n) => {
                        out.push('\u{fffd}');
                        rest = after.get(n..).unwrap_or(&[]);
                    }
                    None if final_ => {
                        out.push_str(&String::from_utf8_lossy(after));
                        return (out, &[]);
                    }
                    None => return (out, after),
                }
            }
        }
    }
}

impl<W: Write> Write for CastRecorder<W> {
    /// Pass through to the terminal and remember what it accepted for the next event.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.cast.is_some() {
            self.pending.extend_from_slice(buf.get(..n).unwrap_or(buf));
        }
        Ok(n)
    }

    /// One flush is one frame: record it as one `"o"` event, flush the cast file, then the
    /// terminal. Cast errors stop the recording but are not returned (see the module docs).
    fn flush(&mut self) -> io::Result<()> {
        self.record_pending(false);
        if let Some(cast) = self.cast.as_mut() {
            if let Err(e) = cast.flush() {
                self.fail(e);
            }
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for CastRecorder<W> {
    /// Best effort: whatever was written after the last flush still ends up in the cast.
    fn drop(&mut self) {
        self.record_pending(true);
        if let Some(cast) = self.cast.as_mut() {
            let _ = cast.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::sync::{Arc, Mutex};

    /// A cast sink the test can read while the recorder owns it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn lines(&self) -> Vec<Value> {
            let bytes = self.0.lock().expect("lock").clone();
            String::from_utf8(bytes)
                .expect("cast is UTF-8")
                .lines()
                .map(|l| serde_json::from_str(l).expect("each line is JSON"))
                .collect()
        }
        fn events(&self) -> Vec<Value> {
            self.lines().into_iter().skip(1).collect()
        }
    }

    /// A clock that advances by `step` seconds per reading.
    fn ticking(step: f64) -> Clock {
        let mut t = 0.0;
        Box::new(move || {
            t += step;
            t
        })
    }

    fn recorder(step: f64) -> (CastRecorder<Vec<u8>>, Shared) {
        let cast = Shared::default();
        let rec = CastRecorder::new_with_clock(
            Vec::new(),
            cast.clone(),
            80,
            24,
            "ccp demo",
            ticking(step),
        )
        .expect("header");
        (rec, cast)
    }

    #[test]
    fn header_is_asciicast_v2() {
        let (_rec, cast) = recorder(0.5);
        let lines = cast.lines();
        assert_eq!(lines.len(), 1);
        let h = &lines[0];
        assert_eq!(h["version"], 2);
        assert_eq!(h["width"], 80);
        assert_eq!(h["height"], 24);
        assert_eq!(h["title"], "ccp demo");
        assert!(h["timestamp"].as_u64().is_some_and(|t| t > 1_600_000_000));
        assert!(h["env"]["TERM"].is_string() && h["env"]["SHELL"].is_string());
    }

    #[test]
    fn writes_until_flush_are_one_output_event() {
        let (mut rec, cast) = recorder(0.5);
        rec.write_all(b"\x1b[1;1Hhello ").expect("write");
        rec.write_all(b"world").expect("write");
        assert!(cast.events().is_empty(), "nothing recorded before flush");
        rec.flush().expect("flush");
        let ev = cast.events();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0][1], "o");
        assert_eq!(ev[0][2], "\u{1b}[1;1Hhello world");
        assert_eq!(ev[0][0].as_f64(), Some(0.5));
        // Output still reaches the terminal, byte for byte.
        assert_eq!(rec.get_ref().as_slice(), b"\x1b[1;1Hhello world");
        // An empty flush records nothing.
        rec.flush().expect("flush");
        assert_eq!(cast.events().len(), 1);
    }

    #[test]
    fn escape_is_json_escaped() {
        let (mut rec, cast) = recorder(0.5);
        rec.write_all(b"\x1b[0m\r\n").expect("write");
        rec.flush().expect("flush");
        let raw = String::from_utf8(cast.0.lock().expect("lock").clone()).expect("utf8");
        let event_line = raw.lines().nth(1).expect("event");
        assert!(event_line.contains("\\u001b[0m\\r\\n"), "{event_line}");
    }

    #[test]
    fn split_multibyte_char_survives_flushes() {
        let (mut rec, cast) = recorder(0.5);
        let text = "a│b🚀c".as_bytes();
        // Split inside '│' (3 bytes) and inside the 4-byte emoji.
        rec.write_all(&text[..2]).expect("write");
        rec.flush().expect("flush");
        rec.write_all(&text[2..7]).expect("write");
        rec.flush().expect("flush");
        rec.write_all(&text[7..]).expect("write");
        rec.flush().expect("flush");
        let data: String = cast
            .events()
            .iter()
            .map(|e| e[2].as_str().expect("data").to_string())
            .collect();
        assert_eq!(data, "a│b🚀c");
        assert!(!data.contains('\u{fffd}'));
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let (mut rec, cast) = recorder(0.5);
        rec.write_all(b"x\xffy\xe2\x94").expect("write");
        drop(rec);
        let ev = cast.events();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0][2], "x\u{fffd}y\u{fffd}");
    }

    #[test]
    fn resize_event_is_w_x_h() {
        let (mut rec, cast) = recorder(0.25);
        rec.resize(120, 40).expect("resize");
        let ev = cast.events();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0][0].as_f64(), Some(0.25));
        assert_eq!(ev[0][1], "r");
        assert_eq!(ev[0][2], "120x40");
    }

    #[test]
    fn timestamps_never_decrease() {
        let cast = Shared::default();
        let readings = [0.1, 0.3, 0.2, f64::NAN, -1.0, 0.4];
        let mut i = 0;
        let clock: Clock = Box::new(move || {
            let t = readings[i % readings.len()];
            i += 1;
            t
        });
        let mut rec = CastRecorder::new_with_clock(Vec::new(), cast.clone(), 80, 24, "t", clock)
            .expect("header");
        for n in 0..6 {
            rec.write_all(format!("frame {n}").as_bytes())
                .expect("write");
            rec.flush().expect("flush");
        }
        let times: Vec<f64> = cast
            .events()
            .iter()
            .map(|e| e[0].as_f64().expect("time"))
            .collect();
        assert_eq!(times, [0.1, 0.3, 0.3, 0.3, 0.3, 0.4]);
    }

    #[test]
    fn real_clock_is_monotonic() {
        let cast = Shared::default();
        let mut rec = CastRecorder::new(Vec::new(), cast.clone(), 80, 24, "t").expect("header");
        for _ in 0..3 {
            rec.write_all(b"x").expect("write");
            rec.flush().expect("flush");
        }
        let times: Vec<f64> = cast.events().iter().filter_map(|e| e[0].as_f64()).collect();
        assert_eq!(times.len(), 3);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn failing_cast_stops_recording_but_not_output() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        // The header itself failing is reported at once.
        assert!(CastRecorder::new(Vec::new(), Full, 80, 24, "t").is_err());

        /// Accepts the header, then fails.
        struct FailAfter(usize);
        impl Write for FailAfter {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk full"));
                }
                self.0 -= 1;
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut rec =
            CastRecorder::new_with_clock(Vec::new(), FailAfter(1), 80, 24, "t", ticking(1.0))
                .expect("header");
        rec.write_all(b"frame").expect("write");
        rec.flush().expect("terminal flush still succeeds");
        assert!(rec.error().is_some());
        rec.write_all(b" more").expect("write");
        rec.flush().expect("flush");
        assert_eq!(rec.get_ref().as_slice(), b"frame more");
        assert!(rec.finish().is_err());
    }
}
