//! The cockpit's event loop: owns the terminal, restores it on every exit path (panics included),
//! folds pipeline Events into the view model, turns keys into Commands, and redraws only when
//! something changed, at most `fps` times a second.

use crate::draw::DrawCache;
use crate::input::{self, Effect};
use crate::record::CastRecorder;
use crate::screen;
use crate::theme::{Status, Theme};
use crate::ui_state::UiState;
use crate::view_model::ViewModel;
use anyhow::{Context, Result};
use ccp_app::AppHandle;
use ccp_core::domain::Outcome;
use ccp_core::events::{Command, Event};
use crossterm::event::{
    self as ct, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::io::{self, Stdout, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How the cockpit should look and behave.
#[derive(Debug, Clone)]
pub struct CockpitOptions {
    /// Themes `t` cycles through; the first is used at start.
    pub themes: Vec<Theme>,
    /// Pace name for the status bar.
    pub pace: String,
    /// Who approvals are recorded as.
    pub actor: String,
    /// Redraw cap.
    pub fps: u32,
    /// Capture the mouse.
    pub mouse: bool,
    /// Write an asciicast v2 recording here.
    pub record: Option<PathBuf>,
    /// Shown as an alarm in the status bar the whole time (e.g. a replayed log's broken chain).
    pub alarm: Option<String>,
}

/// What the terminal writes to: the real stdout, or stdout teed into a recording.
enum Output {
    Plain(Stdout),
    Cast(SharedCast),
}

/// The recorder is shared between the backend (which writes frames) and the loop (which records
/// resizes and finishes the file).
type SharedCast = Arc<Mutex<CastRecorder<Stdout>>>;

fn with_cast<T>(
    c: &SharedCast,
    f: impl FnOnce(&mut CastRecorder<Stdout>) -> io::Result<T>,
) -> io::Result<T> {
    match c.lock() {
        Ok(mut g) => f(&mut g),
        Err(p) => f(&mut p.into_inner()),
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Plain(o) => o.write(buf),
            Output::Cast(c) => with_cast(c, |r| r.write(buf)),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(o) => o.flush(),
            Output::Cast(c) => with_cast(c, |r| r.flush()),
        }
    }
}

/// Set while the cockpit owns the terminal. Restoring twice would replay "leave the alternate
/// screen", which moves the cursor back over what the panic message just printed.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Put the terminal back the way we found it. Only the first call after taking it acts.
fn restore_terminal(mouse: bool) {
    if !TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Restores the terminal when dropped, so `?` and early returns cannot leave it raw.
struct TerminalGuard {
    mouse: bool,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal(self.mouse);
    }
}

/// Install a panic hook that restores the terminal before the panic message prints.
fn install_panic_hook(mouse: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal(mouse);
        previous(info);
    }));
}

/// What wakes the loop.
enum Wake {
    Pipeline(Box<Event>),
    PipelineGone,
    Remote(RemoteMsg),
    Term(TermEvent),
}

/// What the link to a server reports to an attached cockpit.
#[derive(Debug)]
pub enum RemoteMsg {
    /// Connected (again).
    Up,
    /// The link is down and being retried; why, in words.
    Down(String),
    /// The server's stream started over: forget what is shown.
    Reset,
    /// One event.
    Event(Box<Event>),
    /// What became of a command sent earlier: `Ok(what was done)` or `Err(why it was refused)`.
    Answer(Result<String, String>),
    /// The desk's running set and queue in one line (`2 running · 1 queued: api`).
    Desk(String),
}

/// Where an attached cockpit's commands go: the server, under the operator's token. `send`
/// must not block (the cockpit's loop calls it); the outcome comes back as
/// [`RemoteMsg::Answer`].
pub trait CommandSink: Send + Sync {
    /// Queue `cmd` for `incident`; `Err` only when it cannot even be queued.
    fn send(&self, incident: &str, cmd: &Command) -> Result<(), String>;
}

/// A server to attach to.
pub struct Remote {
    /// Events and link changes, from the stream follower.
    pub events: std::sync::mpsc::Receiver<RemoteMsg>,
    /// Commands out.
    pub sink: Arc<dyn CommandSink>,
    /// The server's URL, for the status bar; `None` for a desk in this process (`ccp run`),
    /// whose operations end with the cockpit, so quitting asks first as with one pipeline.
    pub url: Option<String>,
    /// Refuse every command key (k9s' `--readonly`).
    pub read_only: bool,
}

/// Where commands go from this cockpit.
enum Out {
    /// The pipeline in this process.
    Local(std::sync::mpsc::Sender<Command>),
    /// A server.
    Remote(Arc<dyn CommandSink>),
    /// Nowhere (a replay).
    Nowhere,
}

/// Where the cockpit's events come from.
enum Source {
    /// A running pipeline: events stream in, commands go out.
    Live {
        handle: AppHandle,
        commands: std::sync::mpsc::Sender<Command>,
    },
    /// A recorded run (audit log): read-only, stepped with ← / →.
    Replay { events: Vec<Event> },
    /// A running `ccp serve`: every incident's events stream in, commands go over HTTP.
    Attached(Remote),
}

/// Run the cockpit over a started-or-not pipeline until the operator quits. Returns the run's
/// outcome if it finished.
pub fn run(handle: AppHandle, opts: CockpitOptions) -> Result<Option<Outcome>> {
    let commands = handle.command_sender();
    cockpit(Source::Live { handle, commands }, opts)
}

/// Attach to a running server: the same cockpit over its event stream, every incident in the
/// Incidents pane (picking one switches every pane to it). Quitting detaches; the operations go
/// on at the server.
pub fn attach(remote: Remote, opts: CockpitOptions) -> Result<()> {
    cockpit(Source::Attached(remote), opts).map(|_| ())
}

/// Replay recorded events in the cockpit: the same panes as live, stepped one event at a time
/// with ← / → (g / G jump to the ends of the Timeline as usual). Nothing can be sent anywhere.
pub fn replay(events: Vec<Event>, opts: CockpitOptions) -> Result<()> {
    cockpit(Source::Replay { events }, opts).map(|_| ())
}

fn cockpit(source: Source, opts: CockpitOptions) -> Result<Option<Outcome>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        // Time for frames and the spinner, IO for signal handling.
        .enable_time()
        .enable_io()
        .build()
        .context("starting the cockpit's event loop")?;

    install_panic_hook(opts.mouse);
    enable_raw_mode().context("switching the terminal to raw mode (is stdin a terminal?)")?;
    TERMINAL_TAKEN.store(true, Ordering::SeqCst);
    let guard = TerminalGuard { mouse: opts.mouse };
    let mut stdout = io::stdout();
    execute!(stdout, EnterAlternateScreen).context("entering the alternate screen")?;
    if opts.mouse {
        execute!(stdout, EnableMouseCapture).context("enabling mouse capture")?;
    }
    let (w, h) = crossterm::terminal::size().unwrap_or((80, 24));
    let cast: Option<SharedCast> = match &opts.record {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating the recording {}", path.display()))?;
            Some(Arc::new(Mutex::new(
                CastRecorder::new(io::stdout(), file, w, h, "ccp demo")
                    .with_context(|| format!("writing the recording {}", path.display()))?,
            )))
        }
        None => None,
    };
    let output = match &cast {
        Some(c) => Output::Cast(c.clone()),
        None => Output::Plain(stdout),
    };
    let mut terminal =
        Terminal::new(CrosstermBackend::new(output)).context("initialising the terminal")?;
    terminal.clear().ok();

    let (tx, mut rx) = mpsc::unbounded_channel::<Wake>();
    let stop = Arc::new(AtomicBool::new(false));
    let mut vm = ViewModel::default();
    let mut ui = UiState::new(opts.themes.clone(), &opts.pace, &opts.actor);
    ui.alarm = opts.alarm.clone();
    let (commands, recorded, _live) = match source {
        Source::Live {
            mut handle,
            commands,
        } => {
            spawn_pipeline_forwarder(handle.subscribe(), tx.clone());
            handle.start();
            (Out::Local(commands), Vec::new(), Some(handle))
        }
        Source::Attached(remote) => {
            ui.link_down = remote.url.as_ref().map(|u| format!("connecting to {u}…"));
            ui.attached = remote.url;
            ui.read_only = remote.read_only;
            spawn_remote_forwarder(remote.events, tx.clone());
            (Out::Remote(remote.sink), Vec::new(), None)
        }
        Source::Replay { events } => {
            // Open on the end, as the log stands: what happened is the first question; how
            // it got there is a step back away.
            ui.replay_pos = Some(events.len());
            ui.replay_len = events.len();
            ui.follow = false;
            ui.say(
                format!(
                    "replay of {} events, shown at the end: ← back · → forward · Home first · End last · PgUp/PgDn 10",
                    events.len()
                ),
                Status::Info,
            );
            (Out::Nowhere, events, None)
        }
    };
    let mut shown = 0usize;
    spawn_input_reader(tx, stop.clone());
    let cache = DrawCache::new();
    let frame_gap = Duration::from_millis(1000 / u64::from(opts.fps.clamp(1, 120)));
    let panic_requested = std::env::var_os("CCP_TEST_PANIC").is_some();
    let result = rt.block_on(async {
        let mut last_draw = Instant::now() - frame_gap;
        let mut dirty = true;
        let mut pipeline_gone = false;
        let mut quitting_since: Option<Instant> = None;
        // After SIGHUP there is no terminal to draw on: keep stopping the pipeline, draw nothing.
        let mut terminal_gone = false;
        // SIGTERM (a supervisor stopping us) and SIGHUP (the terminal closed) cannot be asked
        // about: they stop the pipeline at its next safe point like a confirmed quit, and the
        // audit log says which signal it was.
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("watching for SIGTERM")?;
        let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("watching for SIGHUP")?;
        let mut spinner = tokio::time::interval(Duration::from_millis(250));
        spinner.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            if let Some(pos) = ui.replay_pos {
                if pos != shown {
                    vm = replayed(&recorded, pos);
                    input::after_event(&mut ui, &vm);
                    shown = pos;
                    dirty = true;
                }
            }
            if vm.focus != ui.focus_incident {
                vm.focus.clone_from(&ui.focus_incident);
                dirty = true;
            }
            if dirty && !terminal_gone {
                let wait = frame_gap.saturating_sub(last_draw.elapsed());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                terminal
                    .draw(|f| screen::draw(f, &vm, &ui, &cache))
                    .context("drawing the cockpit")?;
                last_draw = Instant::now();
                dirty = false;
                if panic_requested {
                    // Diagnostics hook (CCP_TEST_PANIC): proves the panic hook restores the
                    // terminal, end to end, in tests/tui_tmux.rs.
                    panic!("CCP_TEST_PANIC is set: panicking after the first frame on purpose");
                }
            }
            if ui.quit {
                let running = vm.run().finished.is_none() && vm.run().state.is_some() && !pipeline_gone;
                match quitting_since {
                    None if running && matches!(commands, Out::Local(_)) => {
                        if let Out::Local(c) = &commands {
                            let _ = c.send(Command::Abort {
                                actor: ui.actor.clone(),
                                reason: ui.quit_reason.clone(),
                            });
                        }
                        ui.say(
                            "stopping the pipeline: a live canary is rolled back, otherwise it escalates…",
                            Status::Warn,
                        );
                        quitting_since = Some(Instant::now());
                        dirty = true;
                        continue;
                    }
                    Some(t) if running && t.elapsed() < Duration::from_secs(10) => {}
                    _ => break,
                }
            }
            let animating = !matches!(commands, Out::Nowhere)
                && vm.run().finished.is_none()
                && vm.run().state.is_some()
                && !vm.run().paused
                && vm.run().approval.is_none();
            let wake = tokio::select! {
                w = rx.recv() => w,
                _ = sigterm.recv() => {
                    ui.quit = true;
                    ui.quit_reason = "SIGTERM: the cockpit was told to stop".into();
                    dirty = true;
                    continue;
                }
                _ = sighup.recv() => {
                    terminal_gone = true;
                    ui.quit = true;
                    ui.quit_reason = "SIGHUP: the cockpit's terminal went away".into();
                    dirty = true;
                    continue;
                }
                _ = tokio::time::sleep(Duration::from_millis(500)), if quitting_since.is_some() => continue,
                _ = spinner.tick(), if animating => {
                    ui.spinner = ui.spinner.wrapping_add(1);
                    dirty = true;
                    continue;
                }
            };
            let Some(first) = wake else { break };
            // Take everything already queued before drawing: one frame per burst.
            let mut batch = vec![first];
            while let Ok(w) = rx.try_recv() {
                batch.push(w);
            }
            for w in batch {
                match w {
                    Wake::Pipeline(ev) => {
                        vm.apply(&ev);
                        input::after_event(&mut ui, &vm);
                        dirty = true;
                    }
                    Wake::PipelineGone => {
                        pipeline_gone = true;
                    }
                    Wake::Remote(msg) => {
                        on_remote(&mut ui, &mut vm, msg);
                        dirty = true;
                    }
                    Wake::Term(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => {
                        for eff in input::on_key(&mut ui, &vm, k) {
                            apply_effect(&mut ui, &vm, &commands, eff);
                        }
                        dirty = true;
                    }
                    Wake::Term(TermEvent::Mouse(m)) => {
                        let s = terminal.size().unwrap_or_default();
                        input::on_mouse(&mut ui, &vm, m, Rect::new(0, 0, s.width, s.height));
                        dirty = true;
                    }
                    Wake::Term(TermEvent::Resize(w, h)) => {
                        if let Some(c) = &cast {
                            let _ = with_cast(c, |r| r.resize(w, h));
                        }
                        terminal.autoresize().ok();
                        dirty = true;
                    }
                    Wake::Term(_) => {}
                }
            }
        }
        Ok::<(), anyhow::Error>(())
    });
    stop.store(true, Ordering::Relaxed);
    drop(terminal);
    if let Some(c) = &cast {
        let _ = with_cast(c, |r| r.finish());
    }
    drop(guard);
    result?;
    Ok(vm.run().outcome())
}

/// The view model after the first `pos` recorded events.
fn replayed(events: &[Event], pos: usize) -> ViewModel {
    let mut vm = ViewModel::default();
    for ev in &events[..pos.min(events.len())] {
        vm.apply(ev);
    }
    vm
}

/// A message from the server link: events fold in; a lost link is said and holds commands.
fn on_remote(ui: &mut UiState, vm: &mut ViewModel, msg: RemoteMsg) {
    let url = ui.attached.clone().unwrap_or_default();
    match msg {
        RemoteMsg::Up => {
            if ui.link_down.take().is_some() {
                ui.say(format!("connected to {url}"), Status::Ok);
            }
        }
        RemoteMsg::Down(why) => {
            ui.link_down = Some(format!(
                "link to {url} lost ({why}); reconnecting — what is shown may be stale, commands are held"
            ));
        }
        RemoteMsg::Reset => {
            let desk = vm.desk.take();
            *vm = ViewModel::default();
            vm.desk = desk;
            ui.say("the server's stream started over: reloading", Status::Warn);
        }
        RemoteMsg::Event(ev) => {
            vm.apply(&ev);
            input::after_event(ui, vm);
        }
        RemoteMsg::Answer(Ok(done)) => ui.say(done, Status::Info),
        RemoteMsg::Desk(line) => vm.desk = Some(line),
        RemoteMsg::Answer(Err(why)) => ui.say(format!("refused: {why}"), Status::Bad),
    }
}

fn apply_effect(ui: &mut UiState, vm: &ViewModel, out: &Out, eff: Effect) {
    match eff {
        Effect::Send(cmd) => match out {
            Out::Local(c) => {
                if c.send(cmd).is_err() {
                    ui.say("the pipeline has finished; nothing to send", Status::Muted);
                }
            }
            Out::Remote(_) if ui.read_only => ui.say(
                "read-only cockpit: nothing can be approved or changed from here",
                Status::Warn,
            ),
            Out::Remote(_) if ui.link_down.is_some() => ui.say(
                "not sent: the link to the server is down, so what is shown may be stale",
                Status::Bad,
            ),
            Out::Remote(sink) => {
                let Some(inc) = vm.active_incident() else {
                    ui.say("no incident to send that to", Status::Muted);
                    return;
                };
                if let Err(why) = sink.send(&inc.id, &cmd) {
                    ui.say(format!("not sent: {why}"), Status::Bad);
                }
            }
            Out::Nowhere => ui.say(
                "this is a replay: nothing can be approved or changed",
                Status::Warn,
            ),
        },
        Effect::LoadTheme(path) => match Theme::from_file(std::path::Path::new(&path)) {
            Ok(t) => {
                let name = t.name.clone();
                ui.themes.push(t);
                ui.theme_idx = ui.themes.len() - 1;
                ui.say(format!("theme {name} loaded from {path}"), Status::Info);
            }
            Err(e) => ui.say(e.to_string(), Status::Bad),
        },
    }
}

fn spawn_remote_forwarder(
    events: std::sync::mpsc::Receiver<RemoteMsg>,
    tx: mpsc::UnboundedSender<Wake>,
) {
    std::thread::Builder::new()
        .name("ccp-remote".into())
        .spawn(move || {
            for m in events {
                if tx.send(Wake::Remote(m)).is_err() {
                    return;
                }
            }
        })
        .ok();
}

fn spawn_pipeline_forwarder(
    events: std::sync::mpsc::Receiver<Event>,
    tx: mpsc::UnboundedSender<Wake>,
) {
    std::thread::Builder::new()
        .name("ccp-events".into())
        .spawn(move || {
            for ev in events {
                if tx.send(Wake::Pipeline(Box::new(ev))).is_err() {
                    return;
                }
            }
            let _ = tx.send(Wake::PipelineGone);
        })
        .ok();
}

/// Terminal input on its own thread: crossterm's read blocks. Polls with a timeout so the
/// thread notices `stop` and ends with the cockpit.
fn spawn_input_reader(tx: mpsc::UnboundedSender<Wake>, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("ccp-input".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match ct::poll(Duration::from_millis(250)) {
                    Ok(true) => match ct::read() {
                        Ok(ev) => {
                            if tx.send(Wake::Term(ev)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "terminal input failed");
                            return;
                        }
                    },
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "terminal input failed");
                        return;
                    }
                }
            }
        })
        .ok();
}
