//! Buggy source fixtures, one small file per template and language.

use super::super::circuit_breaker::circuit_breaker;
use super::super::error_handling::error_handling;
use super::super::null_guard::null_guard;
use super::super::resource_leak::resource_leak;
use super::super::retry::retry;
use super::super::template::{FixInput, Patch, Refusal};
use super::super::timeout::timeout;

type Template = fn(&FixInput<'_>) -> Result<Patch, Refusal>;
type Case = (
    &'static str,
    Template,
    &'static str,
    &'static str,
    (&'static str, &'static str),
    u32,
);

pub const PY_NULL: &str = "import logging

logger = logging.getLogger(__name__)


def notify(user):
    send(user.email.strip())
    return True
";
pub const PY_NONE_ERR: (&str, &str) = (
    "AttributeError",
    "'NoneType' object has no attribute 'strip'",
);

pub const JAVA_NULL: &str = "package com.acme;

import java.util.logging.Logger;

public class Mailer {
    private static final Logger log = Logger.getLogger(\"mailer\");

    static class User {
        String email;
    }

    public void notify(User user, int count) {
        send(user.email.trim());
        audit(user, count);
    }

    void send(String to) {}

    void audit(User user, int count) {}
}
";
pub const JAVA_NPE: (&str, &str) = (
    "java.lang.NullPointerException",
    "Cannot invoke \"String.trim()\" because \"user.email\" is null",
);

pub const GO_NULL: &str = "package main

import \"fmt\"

type Profile struct {
	Email string
}

type User struct {
	Profile *Profile
}

func notify(u *User) {
	fmt.Println(u.Profile.Email)
}

func show(u User) {
	fmt.Println(u.Name)
}
";
pub const GO_NIL: (&str, &str) = (
    "panic",
    "runtime error: invalid memory address or nil pointer dereference",
);

pub const JS_NULL: &str = "function greet(user) {
  console.log(user.profile.name.toUpperCase());
}

function nameOf(user) {
  return user.profile.name;
}
";
pub const JS_UNDEF: (&str, &str) = (
    "TypeError",
    "Cannot read properties of undefined (reading 'name')",
);

pub const RS_NULL: &str = "fn first_word(text: &str) -> Option<String> {
    let word = text.split_whitespace().next().unwrap();
    Some(word.to_uppercase())
}

fn first_char(text: &str) -> Result<char, String> {
    let c = text.chars().next().unwrap();
    Ok(c)
}

fn print_first(text: &str) {
    let word = text.split_whitespace().next().unwrap();
    println!(\"{word}\");
}
";
pub const RS_NONE: (&str, &str) = ("panic", "called `Option::unwrap()` on a `None` value");

pub const PY_LEAK: &str = "def read_config(path):
    f = open(path)
    data = f.read()
    f.close()
    return parse(data)


def handle(path):
    f = open(path)
    return f
";
pub const LEAK_ERR: (&str, &str) = ("OSError", "[Errno 24] Too many open files");

pub const JAVA_LEAK: &str = "package com.acme;

import java.io.*;

public class Config {
    public String read(String path) throws IOException {
        BufferedReader reader = new BufferedReader(new FileReader(path));
        String line = reader.readLine();
        reader.close();
        return line;
    }
}
";

pub const GO_LEAK: &str = "package store

import \"os\"

func size(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
";

pub const JS_LEAK: &str = "const fs = require('fs');

function firstByte(path) {
  const fd = fs.openSync(path, 'r');
  const buf = Buffer.alloc(1);
  fs.readSync(fd, buf, 0, 1, 0);
  return buf[0];
}
";

pub const PY_TIMEOUT: &str = "import json

import requests


def fetch(url):
    resp = requests.get(url)
    return json.loads(resp.text)
";
pub const TIMEOUT_ERR: (&str, &str) = (
    "requests.exceptions.ReadTimeout",
    "HTTPSConnectionPool: Read timed out.",
);

pub const JAVA_TIMEOUT: &str = "package com.acme;

import java.net.URI;
import java.net.http.HttpRequest;
import java.sql.*;

public class Client {
    HttpRequest build(String url) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();
        return request;
    }

    int count(PreparedStatement stmt) throws SQLException {
        ResultSet rs = stmt.executeQuery();
        return rs.getInt(1);
    }
}
";

pub const GO_TIMEOUT: &str = "package client

import (
	\"io\"
	\"net/http\"
)

func fetch(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
";

pub const JS_TIMEOUT: &str = "async function load(url) {
  const res = await fetch(url);
  const res2 = await fetch(url, { method: 'GET' });
  return res.json();
}
";

pub const RS_TIMEOUT: &str =
    "fn fetch(client: &Client, url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let body = client.get(url).send()?.text()?;
    Ok(body)
}
";

pub const PY_ERR: &str = "import logging

logger = logging.getLogger(__name__)


class PricingError(Exception):
    pass


def price(item, table):
    cost = table[item]
    return cost * 2
";

pub const JAVA_ERR: &str = "package com.acme;

public class Pricing {
    public int parse(String raw) {
        int value = Integer.parseInt(raw);
        return value * 2;
    }
}
";

pub const GO_ERR: &str = "package pricing

import \"strconv\"

func parse(raw string) (int, error) {
	n, _ := strconv.Atoi(raw)
	return n * 2, nil
}

func mustParse(raw string) int {
	n, _ := strconv.Atoi(raw)
	return n
}
";

pub const JS_ERR: &str = "class ConfigError extends Error {}

function loadConfig(raw) {
  const cfg = JSON.parse(raw);
  return cfg.port;
}
";

pub const RS_ERR: &str = "fn parse_port(raw: &str) -> Result<u16, String> {
    let port: u16 = raw.trim().parse().unwrap();
    Ok(port)
}
";

pub const PY_RETRY: &str = "import requests


def get_price(url):
    resp = requests.get(url, timeout=5)
    return resp.json()


def pay(url, body):
    return requests.post(url, json=body, timeout=5)
";
pub const TRANSIENT: (&str, &str) = ("ConnectionError", "Connection reset by peer");

pub const JAVA_RETRY: &str = "package com.acme;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Catalog {
    private final HttpClient client = HttpClient.newHttpClient();

    public String fetch(String url) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        return response.body();
    }
}
";

pub const GO_RETRY: &str = "package client

import \"net/http\"

func status(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
";

pub const JS_RETRY: &str = "async function load(url) {
  const res = await fetch(url);
  return res.json();
}
";

pub const PY_CB_LIB: &str = "import pybreaker
import requests


def get_price(url):
    resp = requests.get(url, timeout=5)
    return resp.json()
";

pub const JAVA_CB_LIB: &str = "package com.acme;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Catalog {
    private final HttpClient client = HttpClient.newHttpClient();

    public String fetch(HttpRequest request) throws Exception {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        return response.body();
    }
}
";

pub const GO_CB_LIB: &str = "package client

import (
\t\"net/http\"

\t\"github.com/sony/gobreaker\"
)

func status(url string) (int, error) {
\tresp, err := http.Get(url)
\tif err != nil {
\t\treturn 0, err
\t}
\tdefer resp.Body.Close()
\treturn resp.StatusCode, nil
}
";

pub const JS_CB_LIB: &str = "const CircuitBreaker = require('opossum');

async function load(url) {
  const res = await fetch(url);
  return res.json();
}
";

pub const ALL: &[Case] = &[
    (
        "py null",
        null_guard,
        "app/notify.py",
        PY_NULL,
        PY_NONE_ERR,
        7,
    ),
    (
        "java null",
        null_guard,
        "src/Mailer.java",
        JAVA_NULL,
        JAVA_NPE,
        13,
    ),
    ("go null", null_guard, "notify.go", GO_NULL, GO_NIL, 14),
    (
        "go null value",
        null_guard,
        "notify.go",
        GO_NULL,
        GO_NIL,
        18,
    ),
    ("js null", null_guard, "greet.js", JS_NULL, JS_UNDEF, 2),
    (
        "js null return",
        null_guard,
        "greet.ts",
        JS_NULL,
        JS_UNDEF,
        6,
    ),
    ("rs null opt", null_guard, "src/lib.rs", RS_NULL, RS_NONE, 2),
    ("rs null res", null_guard, "src/lib.rs", RS_NULL, RS_NONE, 7),
    (
        "rs null unit",
        null_guard,
        "src/lib.rs",
        RS_NULL,
        RS_NONE,
        12,
    ),
    ("py leak", resource_leak, "cfg.py", PY_LEAK, LEAK_ERR, 2),
    (
        "py leak escape",
        resource_leak,
        "cfg.py",
        PY_LEAK,
        LEAK_ERR,
        9,
    ),
    (
        "java leak",
        resource_leak,
        "Config.java",
        JAVA_LEAK,
        LEAK_ERR,
        7,
    ),
    ("go leak", resource_leak, "size.go", GO_LEAK, LEAK_ERR, 6),
    ("js leak", resource_leak, "first.js", JS_LEAK, LEAK_ERR, 4),
    (
        "py timeout",
        timeout,
        "fetch.py",
        PY_TIMEOUT,
        TIMEOUT_ERR,
        7,
    ),
    (
        "py timeout none",
        timeout,
        "fetch.py",
        PY_TIMEOUT,
        TIMEOUT_ERR,
        8,
    ),
    (
        "java timeout http",
        timeout,
        "Client.java",
        JAVA_TIMEOUT,
        TIMEOUT_ERR,
        9,
    ),
    (
        "java timeout jdbc",
        timeout,
        "Client.java",
        JAVA_TIMEOUT,
        TIMEOUT_ERR,
        14,
    ),
    (
        "go timeout",
        timeout,
        "fetch.go",
        GO_TIMEOUT,
        TIMEOUT_ERR,
        9,
    ),
    ("js timeout", timeout, "load.js", JS_TIMEOUT, TIMEOUT_ERR, 2),
    (
        "js timeout opts",
        timeout,
        "load.js",
        JS_TIMEOUT,
        TIMEOUT_ERR,
        3,
    ),
    (
        "rs timeout",
        timeout,
        "src/fetch.rs",
        RS_TIMEOUT,
        TIMEOUT_ERR,
        2,
    ),
    (
        "py err",
        error_handling,
        "pricing.py",
        PY_ERR,
        ("KeyError", "'apple'"),
        11,
    ),
    (
        "java err",
        error_handling,
        "Pricing.java",
        JAVA_ERR,
        ("java.lang.NumberFormatException", "For input string: \"x\""),
        5,
    ),
    (
        "go err",
        error_handling,
        "pricing.go",
        GO_ERR,
        ("panic", "x"),
        6,
    ),
    (
        "go err nochan",
        error_handling,
        "pricing.go",
        GO_ERR,
        ("panic", "x"),
        11,
    ),
    (
        "js err",
        error_handling,
        "config.js",
        JS_ERR,
        ("SyntaxError", "Unexpected token"),
        4,
    ),
    (
        "rs err",
        error_handling,
        "src/port.rs",
        RS_ERR,
        (
            "panic",
            "called `Result::unwrap()` on an `Err` value: ParseIntError",
        ),
        2,
    ),
    ("py retry", retry, "price.py", PY_RETRY, TRANSIENT, 5),
    ("py retry post", retry, "price.py", PY_RETRY, TRANSIENT, 10),
    (
        "java retry",
        retry,
        "Catalog.java",
        JAVA_RETRY,
        TRANSIENT,
        13,
    ),
    ("go retry", retry, "status.go", GO_RETRY, TRANSIENT, 6),
    ("js retry", retry, "load.ts", JS_RETRY, TRANSIENT, 2),
    ("py cb", circuit_breaker, "price.py", PY_RETRY, TRANSIENT, 5),
    (
        "java cb",
        circuit_breaker,
        "Catalog.java",
        JAVA_RETRY,
        TRANSIENT,
        13,
    ),
    (
        "go cb",
        circuit_breaker,
        "status.go",
        GO_RETRY,
        TRANSIENT,
        6,
    ),
    ("js cb", circuit_breaker, "load.js", JS_RETRY, TRANSIENT, 2),
    ("ts cb", circuit_breaker, "load.ts", JS_RETRY, TRANSIENT, 2),
    (
        "py cb lib",
        circuit_breaker,
        "price.py",
        PY_CB_LIB,
        TRANSIENT,
        6,
    ),
    (
        "java cb lib",
        circuit_breaker,
        "Catalog.java",
        JAVA_CB_LIB,
        TRANSIENT,
        12,
    ),
    (
        "go cb lib",
        circuit_breaker,
        "status.go",
        GO_CB_LIB,
        TRANSIENT,
        10,
    ),
    (
        "js cb lib",
        circuit_breaker,
        "load.js",
        JS_CB_LIB,
        TRANSIENT,
        4,
    ),
];
