//! Expected patched files for the fixtures, reviewed by hand and checked with python3 -m py_compile,
//! javac, node --check and rustc where the fixture is self-contained (Go and TypeScript by eye).

pub const PY_NULL: &str = r##"import logging

logger = logging.getLogger(__name__)


def notify(user):
    if user.email is not None:
        send(user.email.strip())
    else:
        logger.warning("user.email is None; skipped send() (ccp null_check)")
    return True
"##;

pub const JAVA_NULL: &str = r##"package com.acme;

import java.util.logging.Logger;

public class Mailer {
    private static final Logger log = Logger.getLogger("mailer");

    static class User {
        String email;
    }

    public void notify(User user, int count) {
        if (user.email != null) {
            send(user.email.trim());
        } else {
            log.warning("user.email is null; skipped the statement at line 13 (ccp null_guard)");
        }
        audit(user, count);
    }

    void send(String to) {}

    void audit(User user, int count) {}
}
"##;

pub const GO_NULL: &str = r##"package main

import "fmt"

type Profile struct {
	Email string
}

type User struct {
	Profile *Profile
}

func notify(u *User) {
	if u != nil && u.Profile != nil {
		fmt.Println(u.Profile.Email)
	}
}

func show(u User) {
	fmt.Println(u.Name)
}
"##;

pub const JS_NULL: &str = r##"function greet(user) {
  if (user.profile != null) {
    console.log(user.profile.name.toUpperCase());
  } else {
    console.warn("user.profile is null or undefined; skipped the statement at line 2 (ccp null_guard)");
  }
}

function nameOf(user) {
  return user.profile.name;
}
"##;

pub const JS_NULL_RETURN: &str = r##"function greet(user) {
  console.log(user.profile.name.toUpperCase());
}

function nameOf(user) {
  return user.profile?.name;
}
"##;

pub const RS_NULL_OPT: &str = r##"fn first_word(text: &str) -> Option<String> {
    let word = text.split_whitespace().next()?;
    Some(word.to_uppercase())
}

fn first_char(text: &str) -> Result<char, String> {
    let c = text.chars().next().unwrap();
    Ok(c)
}

fn print_first(text: &str) {
    let word = text.split_whitespace().next().unwrap();
    println!("{word}");
}
"##;

pub const RS_NULL_RES: &str = r##"fn first_word(text: &str) -> Option<String> {
    let word = text.split_whitespace().next().unwrap();
    Some(word.to_uppercase())
}

fn first_char(text: &str) -> Result<char, String> {
    let c = text.chars().next().ok_or_else(|| "text.chars().next() was None at src/lib.rs:7 (ccp null_guard)".to_string())?;
    Ok(c)
}

fn print_first(text: &str) {
    let word = text.split_whitespace().next().unwrap();
    println!("{word}");
}
"##;

pub const RS_NULL_UNIT: &str = r##"fn first_word(text: &str) -> Option<String> {
    let word = text.split_whitespace().next().unwrap();
    Some(word.to_uppercase())
}

fn first_char(text: &str) -> Result<char, String> {
    let c = text.chars().next().unwrap();
    Ok(c)
}

fn print_first(text: &str) {
    let Some(word) = text.split_whitespace().next() else { return; };
    println!("{word}");
}
"##;

pub const PY_LEAK: &str = r##"def read_config(path):
    with open(path) as f:
        data = f.read()
        return parse(data)


def handle(path):
    f = open(path)
    return f
"##;

pub const JAVA_LEAK: &str = r##"package com.acme;

import java.io.*;

public class Config {
    public String read(String path) throws IOException {
        try (BufferedReader reader = new BufferedReader(new FileReader(path))) {
            String line = reader.readLine();
            return line;
        }
    }
}
"##;

pub const GO_LEAK: &str = r##"package store

import "os"

func size(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
"##;

pub const JS_LEAK: &str = r##"const fs = require('fs');

function firstByte(path) {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1);
    fs.readSync(fd, buf, 0, 1, 0);
    return buf[0];
  } finally {
    fs.closeSync(fd);
  }
}
"##;

pub const PY_TIMEOUT: &str = r##"import json

import requests


def fetch(url):
    resp = requests.get(url, timeout=10)
    return json.loads(resp.text)
"##;

pub const JAVA_TIMEOUT_HTTP: &str = r##"package com.acme;

import java.net.URI;
import java.net.http.HttpRequest;
import java.sql.*;
import java.time.Duration;

public class Client {
    HttpRequest build(String url) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().timeout(Duration.ofSeconds(10)).build();
        return request;
    }

    int count(PreparedStatement stmt) throws SQLException {
        ResultSet rs = stmt.executeQuery();
        return rs.getInt(1);
    }
}
"##;

pub const JAVA_TIMEOUT_JDBC: &str = r##"package com.acme;

import java.net.URI;
import java.net.http.HttpRequest;
import java.sql.*;

public class Client {
    HttpRequest build(String url) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();
        return request;
    }

    int count(PreparedStatement stmt) throws SQLException {
        stmt.setQueryTimeout(10);
        ResultSet rs = stmt.executeQuery();
        return rs.getInt(1);
    }
}
"##;

pub const GO_TIMEOUT: &str = r##"package client

import (
	"io"
	"net/http"
	"time"
)

func fetch(url string) ([]byte, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
"##;

pub const JS_TIMEOUT: &str = r##"async function load(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
  const res2 = await fetch(url, { method: 'GET' });
  return res.json();
}
"##;

pub const JS_TIMEOUT_OPTS: &str = r##"async function load(url) {
  const res = await fetch(url);
  const res2 = await fetch(url, { signal: AbortSignal.timeout(10000), method: 'GET' });
  return res.json();
}
"##;

pub const RS_TIMEOUT: &str = r##"use std::time::Duration;

fn fetch(client: &Client, url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let body = client.get(url).timeout(Duration::from_secs(10)).send()?.text()?;
    Ok(body)
}
"##;

pub const PY_ERR: &str = r##"import logging

logger = logging.getLogger(__name__)


class PricingError(Exception):
    pass


def price(item, table):
    try:
        cost = table[item]
    except KeyError as exc:
        logger.exception("price() failed at pricing.py:11")
        raise PricingError(f"price() failed at pricing.py:11: {exc}") from exc
    return cost * 2
"##;

pub const JAVA_ERR: &str = r##"package com.acme;

public class Pricing {
    public int parse(String raw) {
        int value;
        try {
            value = Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("parse failed at Pricing.java:5", e);
        }
        return value * 2;
    }
}
"##;

pub const GO_ERR: &str = r##"package pricing

import "strconv"
import "fmt"

func parse(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, fmt.Errorf("parse at pricing.go:6: %w", err)
	}
	return n * 2, nil
}

func mustParse(raw string) int {
	n, _ := strconv.Atoi(raw)
	return n
}
"##;

pub const JS_ERR: &str = r##"class ConfigError extends Error {}

function loadConfig(raw) {
  let cfg;
  try {
    cfg = JSON.parse(raw);
  } catch (err) {
    console.error("loadConfig failed at config.js:4", err);
    throw new ConfigError(`loadConfig failed at config.js:4: ${String(err)}`);
  }
  return cfg.port;
}
"##;

pub const RS_ERR: &str = r##"fn parse_port(raw: &str) -> Result<u16, String> {
    let port: u16 = raw.trim().parse().map_err(|e| format!("parse_port at src/port.rs:2: {e}"))?;
    Ok(port)
}
"##;

pub const PY_RETRY: &str = r##"import requests
import random
import time


def _ccp_retry(call, attempts=3, base_delay=0.2, max_delay=2.0):
    """Call an idempotent operation, retrying failures with bounded exponential backoff and full jitter (ccp retry)."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))


def get_price(url):
    resp = _ccp_retry(lambda: requests.get(url, timeout=5))
    return resp.json()


def pay(url, body):
    return requests.post(url, json=body, timeout=5)
"##;

pub const JAVA_RETRY: &str = r##"package com.acme;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Catalog {
    private final HttpClient client = HttpClient.newHttpClient();

    public String fetch(String url) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();
        HttpResponse<String> response = ccpRetry(() -> client.send(request, HttpResponse.BodyHandlers.ofString()));
        return response.body();
    }

    /** Calls an idempotent operation up to 3 times with bounded exponential backoff and full jitter; rethrows the last failure unchanged (ccp retry). */
    private static <T> T ccpRetry(java.util.concurrent.Callable<T> call) {
        long ceilingMillis = 200;
        for (int attempt = 1; ; attempt++) {
            try {
                return call.call();
            } catch (Exception e) {
                if (attempt >= 3) {
                    throw ccpSneakyThrow(e);
                }
            }
            try {
                Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(ceilingMillis + 1));
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw ccpSneakyThrow(interrupted);
            }
            ceilingMillis = Math.min(ceilingMillis * 2, 2000);
        }
    }

    /** Rethrows a checked exception without wrapping, so callers see exactly what the call threw (ccp retry). */
    @SuppressWarnings("unchecked")
    private static <E extends Exception> RuntimeException ccpSneakyThrow(Exception e) throws E {
        throw (E) e;
    }
}
"##;

pub const GO_RETRY: &str = r##"package client

import "net/http"
import "math/rand"
import "time"

func status(url string) (int, error) {
	resp, err := http.Get(url)
	for attempt := 1; err != nil && attempt < 3; attempt++ {
		ccpBackoff(attempt)
		resp, err = http.Get(url)
	}
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// ccpBackoff sleeps before retry number attempt: exponential from 200ms, capped at 2s, with full
// jitter so that retrying clients do not synchronise (ccp retry).
func ccpBackoff(attempt int) {
	ceiling := 200 * time.Millisecond << uint(attempt-1)
	if ceiling > 2*time.Second {
		ceiling = 2 * time.Second
	}
	time.Sleep(time.Duration(rand.Int63n(int64(ceiling)) + 1))
}
"##;

pub const JS_RETRY: &str = r##"async function load(url) {
  const res = await ccpRetry(() => fetch(url));
  return res.json();
}

// Calls an idempotent operation up to `attempts` times with bounded exponential backoff and full jitter (ccp retry).
async function ccpRetry<T>(call: () => Promise<T>, attempts = 3, baseMs = 200, maxMs = 2000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts) throw err;
      const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
}
"##;

pub const PY_CB: &str = r##"import requests
import time


class _CcpCircuitBreaker:
    """Opens after `fail_max` consecutive failures and fails fast for `reset_timeout` seconds, so a failing dependency is not hammered (ccp circuit_breaker)."""

    def __init__(self, fail_max=5, reset_timeout=30.0):
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        self.failures = 0
        self.opened_at = None

    def call(self, func):
        if self.opened_at is not None:
            if time.monotonic() - self.opened_at < self.reset_timeout:
                raise RuntimeError("circuit open: dependency failing, call skipped (ccp circuit_breaker)")
            self.opened_at = None
        try:
            result = func()
        except Exception:
            self.failures += 1
            if self.failures >= self.fail_max:
                self.opened_at = time.monotonic()
            raise
        self.failures = 0
        return result


_ccp_breaker = _CcpCircuitBreaker()


def get_price(url):
    resp = _ccp_breaker.call(lambda: requests.get(url, timeout=5))
    return resp.json()


def pay(url, body):
    return requests.post(url, json=body, timeout=5)
"##;

pub const JAVA_CB: &str = r##"package com.acme;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

public class Catalog {
    private final HttpClient client = HttpClient.newHttpClient();

    public String fetch(String url) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();
        HttpResponse<String> response;
        CCP_BREAKER.acquirePermission();
        long ccpStart = System.nanoTime();
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
            CCP_BREAKER.onSuccess(System.nanoTime() - ccpStart, TimeUnit.NANOSECONDS);
        } catch (Throwable t) {
            CCP_BREAKER.onError(System.nanoTime() - ccpStart, TimeUnit.NANOSECONDS, t);
            throw t;
        }
        return response.body();
    }

    /** Opens after 5 consecutive failures and fails fast for 30 s, so a failing dependency is not hammered; same calls as resilience4j's CircuitBreaker (ccp circuit_breaker). */
    private static final class CcpCircuitBreaker {
        private int failures;
        private long openedAt;
        private boolean open;

        synchronized void acquirePermission() {
            if (open && System.nanoTime() - openedAt < TimeUnit.SECONDS.toNanos(30)) {
                throw new IllegalStateException("circuit open: dependency failing, call skipped (ccp circuit_breaker)");
            }
            open = false;
        }

        synchronized void onSuccess(long duration, TimeUnit unit) {
            failures = 0;
        }

        synchronized void onError(long duration, TimeUnit unit, Throwable error) {
            failures++;
            if (failures >= 5) {
                open = true;
                openedAt = System.nanoTime();
            }
        }
    }

    private static final CcpCircuitBreaker CCP_BREAKER = new CcpCircuitBreaker();
}
"##;

pub const GO_CB: &str = r##"package client

import "net/http"
import "errors"
import "sync"
import "time"

func status(url string) (int, error) {
	ccpDone, err := ccpBreaker.Allow()
	if err != nil {
		return 0, err
	}
	resp, err := http.Get(url)
	ccpDone(err == nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// ccpCircuitBreaker opens after 5 consecutive failures and fails fast for 30s, so a failing
// dependency is not hammered; same two-step shape as gobreaker's TwoStepCircuitBreaker (ccp circuit_breaker).
type ccpCircuitBreaker struct {
	mu       sync.Mutex
	failures int
	openedAt time.Time
}

var errCcpCircuitOpen = errors.New("circuit open: dependency failing, call skipped (ccp circuit_breaker)")

var ccpBreaker = &ccpCircuitBreaker{}

// Allow reports whether a call may proceed; call done with its outcome.
func (b *ccpCircuitBreaker) Allow() (done func(success bool), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures >= 5 && time.Since(b.openedAt) < 30*time.Second {
		return nil, errCcpCircuitOpen
	}
	return b.done, nil
}

func (b *ccpCircuitBreaker) done(success bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if success {
		b.failures = 0
		return
	}
	b.failures++
	if b.failures >= 5 {
		b.openedAt = time.Now()
	}
}
"##;

pub const JS_CB: &str = r##"// Opens after 5 consecutive failures and fails fast for 30 s, so a failing dependency is not
// hammered; same `fire` call as opossum (ccp circuit_breaker).
const ccpBreaker = (() => {
  let failures = 0;
  let openedAt = 0;
  return {
    async fire(call) {
      if (failures >= 5 && Date.now() - openedAt < 30000) {
        throw new Error('circuit open: dependency failing, call skipped (ccp circuit_breaker)');
      }
      try {
        const result = await call();
        failures = 0;
        return result;
      } catch (err) {
        failures += 1;
        if (failures >= 5) openedAt = Date.now();
        throw err;
      }
    },
  };
})();

async function load(url) {
  const res = await ccpBreaker.fire(() => fetch(url));
  return res.json();
}
"##;

pub const TS_CB: &str = r##"// Opens after 5 consecutive failures and fails fast for 30 s, so a failing dependency is not
// hammered; same `fire` call as opossum (ccp circuit_breaker).
const ccpBreaker = (() => {
  let failures = 0;
  let openedAt = 0;
  return {
    async fire<T>(call: () => Promise<T>): Promise<T> {
      if (failures >= 5 && Date.now() - openedAt < 30000) {
        throw new Error('circuit open: dependency failing, call skipped (ccp circuit_breaker)');
      }
      try {
        const result = await call();
        failures = 0;
        return result;
      } catch (err) {
        failures += 1;
        if (failures >= 5) openedAt = Date.now();
        throw err;
      }
    },
  };
})();

async function load(url) {
  const res = await ccpBreaker.fire(() => fetch(url));
  return res.json();
}
"##;

pub const PY_CB_LIB: &str = r##"import pybreaker
import requests


_ccp_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30, name="price")


def get_price(url):
    resp = _ccp_breaker.call(lambda: requests.get(url, timeout=5))
    return resp.json()
"##;

pub const JAVA_CB_LIB: &str = r##"package com.acme;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

public class Catalog {
    private static final CircuitBreaker CCP_BREAKER = CircuitBreaker.ofDefaults("Catalog");

    private final HttpClient client = HttpClient.newHttpClient();

    public String fetch(HttpRequest request) throws Exception {
        HttpResponse<String> response;
        CCP_BREAKER.acquirePermission();
        long ccpStart = System.nanoTime();
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
            CCP_BREAKER.onSuccess(System.nanoTime() - ccpStart, TimeUnit.NANOSECONDS);
        } catch (Throwable t) {
            CCP_BREAKER.onError(System.nanoTime() - ccpStart, TimeUnit.NANOSECONDS, t);
            throw t;
        }
        return response.body();
    }
}
"##;

pub const GO_CB_LIB: &str = r##"package client

import (
	"net/http"

	"github.com/sony/gobreaker"
)

var ccpBreaker = gobreaker.NewTwoStepCircuitBreaker(gobreaker.Settings{Name: "status"})

func status(url string) (int, error) {
	ccpDone, err := ccpBreaker.Allow()
	if err != nil {
		return 0, err
	}
	resp, err := http.Get(url)
	ccpDone(err == nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
"##;

pub const JS_CB_LIB: &str = r##"const CircuitBreaker = require('opossum');

const ccpBreaker = new CircuitBreaker((call) => call(), { resetTimeout: 30000 });

async function load(url) {
  const res = await ccpBreaker.fire(() => fetch(url));
  return res.json();
}
"##;

/// The expected file for a fixture case name in `fixtures::ALL`, if that case patches.
pub fn by_name(name: &str) -> Option<&'static str> {
    match name {
        "py null" => Some(PY_NULL),
        "java null" => Some(JAVA_NULL),
        "go null" => Some(GO_NULL),
        "js null" => Some(JS_NULL),
        "js null return" => Some(JS_NULL_RETURN),
        "rs null opt" => Some(RS_NULL_OPT),
        "rs null res" => Some(RS_NULL_RES),
        "rs null unit" => Some(RS_NULL_UNIT),
        "py leak" => Some(PY_LEAK),
        "java leak" => Some(JAVA_LEAK),
        "go leak" => Some(GO_LEAK),
        "js leak" => Some(JS_LEAK),
        "py timeout" => Some(PY_TIMEOUT),
        "java timeout http" => Some(JAVA_TIMEOUT_HTTP),
        "java timeout jdbc" => Some(JAVA_TIMEOUT_JDBC),
        "go timeout" => Some(GO_TIMEOUT),
        "js timeout" => Some(JS_TIMEOUT),
        "js timeout opts" => Some(JS_TIMEOUT_OPTS),
        "rs timeout" => Some(RS_TIMEOUT),
        "py err" => Some(PY_ERR),
        "java err" => Some(JAVA_ERR),
        "go err" => Some(GO_ERR),
        "js err" => Some(JS_ERR),
        "rs err" => Some(RS_ERR),
        "py retry" => Some(PY_RETRY),
        "java retry" => Some(JAVA_RETRY),
        "go retry" => Some(GO_RETRY),
        "js retry" => Some(JS_RETRY),
        "py cb" => Some(PY_CB),
        "java cb" => Some(JAVA_CB),
        "go cb" => Some(GO_CB),
        "js cb" => Some(JS_CB),
        "ts cb" => Some(TS_CB),
        "py cb lib" => Some(PY_CB_LIB),
        "java cb lib" => Some(JAVA_CB_LIB),
        "go cb lib" => Some(GO_CB_LIB),
        "js cb lib" => Some(JS_CB_LIB),
        _ => None,
    }
}
