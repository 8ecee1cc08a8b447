//! An in-process SMTP server that records every message it accepts, so tests
//! can drive the application's real mail path (lettre over SMTP) and then
//! assert on what a reader would receive.
#![allow(dead_code)]

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// A message accepted by [`SmtpSink`].
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without angle brackets; empty for `<>`.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), in the order given.
    pub to: Vec<String>,
    /// The DATA section, dot-unstuffed, with its CRLF line endings kept.
    pub data: String,
}

impl ReceivedMail {
    /// The unfolded, RFC 2047-decoded value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_head_body(&self.data);
        find_header(&parse_headers(head), name).map(decode_header_value)
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The decoded `text/plain` part with line endings normalised to `\n`.
    ///
    /// Panics (showing the raw message) when there is none, because every
    /// caller wants to assert on the text and an empty string would only make
    /// that assertion fail further away from the cause.
    pub fn text_body(&self) -> String {
        self.body_of_type("text/plain")
            .unwrap_or_else(|| panic!("mail to {:?} has no text/plain part; raw DATA:\n{}", self.to, self.data))
    }

    /// The decoded `text/html` part with line endings normalised to `\n`.
    pub fn html_body(&self) -> Option<String> {
        self.body_of_type("text/html")
    }

    /// Every `http://` or `https://` URL in [`Self::text_body`], in order.
    pub fn links(&self) -> Vec<String> {
        extract_links(&self.text_body())
    }

    pub fn first_link_containing(&self, needle: &str) -> Option<String> {
        self.links().into_iter().find(|link| link.contains(needle))
    }

    fn body_of_type(&self, mime_type: &str) -> Option<String> {
        let mut leaves = Vec::new();
        collect_leaves(&self.data, &mut leaves);
        leaves.into_iter().find(|leaf| leaf.mime_type == mime_type && !leaf.is_attachment).map(|leaf| leaf.decode())
    }
}

/// A plain-SMTP server on 127.0.0.1 (random port) that stores every message
/// it accepts, across any number of concurrent and pooled connections.
///
/// Dropping it stops the server and closes every open connection.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    accept_loop: JoinHandle<()>,
}

struct Shared {
    // A watch channel both stores the mails and wakes `wait_for`, so there is
    // no window between checking the count and starting to wait.
    mails: watch::Sender<Vec<ReceivedMail>>,
    failing: AtomicBool,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("SmtpSink: binding 127.0.0.1:0 failed");
        let port = listener.local_addr().expect("SmtpSink: reading the bound address failed").port();
        let shared = Arc::new(Shared { mails: watch::Sender::new(Vec::new()), failing: AtomicBool::new(false) });
        let accept_loop = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        SmtpSink { port, shared, accept_loop }
    }

    /// A URL that lettre's `AsyncSmtpTransport::from_url` accepts (plain SMTP,
    /// no TLS, no authentication).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.mails.borrow().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.mails.borrow().len()
    }

    /// Waits until at least `n` mails have been received in total and returns
    /// all of them; panics if that does not happen within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let mut mails = self.shared.mails.subscribe();
        match tokio::time::timeout(timeout, mails.wait_for(|mails| mails.len() >= n)).await {
            Ok(Ok(mails)) => mails.clone(),
            // The sender lives in `self.shared`, which outlives this borrow.
            Ok(Err(_)) => unreachable!("SmtpSink: mail channel closed while the sink is alive"),
            Err(_) => {
                let received = self.received();
                let summary: Vec<String> =
                    received.iter().map(|mail| format!("{:?} -> {:?}", mail.subject(), mail.to)).collect();
                panic!(
                    "SmtpSink: expected at least {n} mail(s) within {timeout:?}, \
                     but received {}: {summary:#?}",
                    received.len()
                )
            }
        }
    }

    /// While set, `MAIL FROM` is answered with a transient 451 so the client
    /// sees a delivery failure it may retry, and nothing is stored.
    pub fn set_failing(&self, fail: bool) {
        self.shared.failing.store(fail, Ordering::SeqCst);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // The connection tasks live in the accept loop's JoinSet, so this
        // closes them too instead of leaving lettre's pooled sockets open.
        self.accept_loop.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(err) => eprintln!("SmtpSink: accept failed: {err}"),
            },
            // Reaping finished connections keeps the set from growing over a
            // long test run; their I/O errors are just clients hanging up.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut envelope = Envelope::default();
    let mut line = Vec::new();

    reply(&mut writer, "220 localhost ESMTP test sink ready").await?;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end_matches(['\r', '\n']);
        let (verb, args) = command.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((command, ""));

        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                envelope = Envelope::default();
                // Deliberately no STARTTLS or AUTH: lettre must talk plain SMTP.
                reply(&mut writer, "250-localhost\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME").await?;
            }
            "HELO" => {
                envelope = Envelope::default();
                reply(&mut writer, "250 localhost").await?;
            }
            "MAIL" => {
                if shared.failing.load(Ordering::SeqCst) {
                    envelope = Envelope::default();
                    reply(&mut writer, "451 4.3.0 Temporary failure").await?;
                } else if envelope.from.is_some() {
                    reply(&mut writer, "503 5.5.1 Sender already given").await?;
                } else if let Some(from) = parse_path(args, "FROM:") {
                    envelope.from = Some(from);
                    reply(&mut writer, "250 2.1.0 Ok").await?;
                } else {
                    reply(&mut writer, "501 5.5.4 Syntax: MAIL FROM:<address>").await?;
                }
            }
            "RCPT" => {
                if envelope.from.is_none() {
                    reply(&mut writer, "503 5.5.1 Need MAIL before RCPT").await?;
                } else if let Some(to) = parse_path(args, "TO:") {
                    envelope.to.push(to);
                    reply(&mut writer, "250 2.1.5 Ok").await?;
                } else {
                    reply(&mut writer, "501 5.5.4 Syntax: RCPT TO:<address>").await?;
                }
            }
            "DATA" => {
                if envelope.to.is_empty() {
                    reply(&mut writer, "503 5.5.1 Need RCPT before DATA").await?;
                    continue;
                }
                reply(&mut writer, "354 End data with <CR><LF>.<CR><LF>").await?;
                // A connection dropped mid-DATA loses the message, as on a real server.
                let data = read_data(&mut reader).await?;
                let Envelope { from, to } = std::mem::take(&mut envelope);
                let mail = ReceivedMail { from: from.unwrap_or_default(), to, data };
                // Stored before answering so a client that saw the 250 can
                // immediately find the mail through `received()`.
                shared.mails.send_modify(|mails| mails.push(mail));
                reply(&mut writer, "250 2.0.0 Ok: queued").await?;
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut writer, "250 2.0.0 Ok").await?;
            }
            "NOOP" => reply(&mut writer, "250 2.0.0 Ok").await?,
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 Bye").await?;
                return Ok(());
            }
            _ => reply(&mut writer, "502 5.5.2 Command not recognized").await?,
        }
    }
}

async fn reply(writer: &mut OwnedWriteHalf, text: &str) -> io::Result<()> {
    writer.write_all(format!("{text}\r\n").as_bytes()).await
}

/// Reads the DATA section up to the terminating "." line, undoing dot-stuffing.
async fn read_data(reader: &mut BufReader<OwnedReadHalf>) -> io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed during DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

/// Extracts the address from `FROM:<addr> PARAMS` / `TO:<addr> PARAMS`,
/// ignoring ESMTP parameters such as `BODY=8BITMIME`.
fn parse_path(args: &str, keyword: &str) -> Option<String> {
    let args = args.trim_start();
    let prefix = args.get(..keyword.len())?;
    if !prefix.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start();
    match rest.strip_prefix('<') {
        Some(bracketed) => bracketed.split_once('>').map(|(addr, _)| addr.to_owned()),
        // Some clients omit the brackets; accept the bare address.
        None => rest.split_whitespace().next().filter(|addr| !addr.is_empty()).map(str::to_owned),
    }
}

// ---------------------------------------------------------------------------
// MIME decoding: just enough to read what lettre 0.11 produces.
// ---------------------------------------------------------------------------

/// A non-multipart MIME entity.
struct Leaf<'a> {
    mime_type: String,
    charset: Option<String>,
    transfer_encoding: String,
    is_attachment: bool,
    body: &'a str,
}

impl Leaf<'_> {
    fn decode(&self) -> String {
        let bytes = match self.transfer_encoding.as_str() {
            "base64" => decode_base64(self.body.as_bytes()),
            "quoted-printable" => decode_quoted_printable(self.body),
            _ => self.body.as_bytes().to_vec(),
        };
        let text = decode_charset(bytes, self.charset.as_deref().unwrap_or("utf-8"));
        // Encodings differ in whether they carry CRLF (7bit, QP) or the
        // source's own line endings (base64); normalising makes assertions
        // independent of which encoding lettre happened to choose.
        text.replace("\r\n", "\n")
    }
}

/// Walks the MIME tree depth-first, collecting the leaves in document order.
fn collect_leaves<'a>(entity: &'a str, leaves: &mut Vec<Leaf<'a>>) {
    let (head, body) = split_head_body(entity);
    let headers = parse_headers(head);
    let (mime_type, params) = match find_header(&headers, "Content-Type") {
        Some(value) => parse_content_type(value),
        None => ("text/plain".to_owned(), Vec::new()),
    };
    let param = |name: &str| params.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());

    if mime_type.starts_with("multipart/")
        && let Some(boundary) = param("boundary")
    {
        for part in split_multipart(body, &boundary) {
            collect_leaves(part, leaves);
        }
        return;
    }

    let is_attachment = find_header(&headers, "Content-Disposition")
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("attachment"));
    let transfer_encoding = find_header(&headers, "Content-Transfer-Encoding")
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "7bit".to_owned());
    leaves.push(Leaf { charset: param("charset"), mime_type, transfer_encoding, is_attachment, body });
}

/// Splits at the first empty line; an entity without one is all header.
fn split_head_body(entity: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in entity.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']).is_empty() {
            return (&entity[..offset], &entity[offset + line.len()..]);
        }
        offset += line.len();
    }
    (entity, "")
}

/// Parses a header block into (name, unfolded raw value) pairs.
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            // Unfolding removes only the line break; the whitespace stays.
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim_start().to_owned()));
        }
    }
    headers
}

fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.trim_end())
}

/// Returns the lowercased media type and its parameters (names lowercased,
/// values unquoted).
fn parse_content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut segments = split_unquoted(value, ';').into_iter();
    let mime_type = segments.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = segments
        .filter_map(|segment| {
            let (name, value) = segment.split_once('=')?;
            Some((name.trim().to_ascii_lowercase(), unquote(value.trim())))
        })
        .collect();
    (mime_type, params)
}

/// Splits on `separator` outside double quotes (boundaries may contain `;`).
fn split_unquoted(value: &str, separator: char) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            _ if c == separator && !in_quotes => {
                segments.push(&value[start..index]);
                start = index + c.len_utf8();
            }
            _ => {}
        }
    }
    segments.push(&value[start..]);
    segments
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// Returns the body of each part between `--boundary` delimiter lines. The
/// line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
fn split_multipart<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let close_delimiter = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let is_close = trimmed == close_delimiter;
        if is_close || trimmed == delimiter {
            if let Some(start) = part_start {
                parts.push(strip_line_break(&body[start..offset]));
            }
            if is_close {
                return parts;
            }
            part_start = Some(offset + line.len());
        }
        offset += line.len();
    }
    // Tolerate a missing close delimiter rather than losing the last part.
    if let Some(start) = part_start {
        parts.push(&body[start..]);
    }
    parts
}

fn strip_line_break(text: &str) -> &str {
    text.strip_suffix("\r\n").or_else(|| text.strip_suffix('\n')).unwrap_or(text)
}

/// Decodes RFC 2047 encoded words (`=?charset?B|Q?text?=`) in a header value.
fn decode_header_value(value: &str) -> String {
    let mut out = String::new();
    // Bytes of adjacent encoded words are decoded together, because an
    // encoder may split one multi-byte character across two words.
    let mut pending: Option<(String, Vec<u8>)> = None;
    let mut rest = value;

    while let Some(word) = find_encoded_word(rest) {
        let between = &rest[..word.start];
        // RFC 2047 §6.2: whitespace between adjacent encoded words is dropped.
        let adjacent = pending.is_some() && between.chars().all(char::is_whitespace);
        match &mut pending {
            Some((charset, bytes)) if adjacent && charset.eq_ignore_ascii_case(&word.charset) => {
                bytes.extend_from_slice(&word.bytes);
            }
            _ => {
                if let Some((charset, bytes)) = pending.take() {
                    out.push_str(&decode_charset(bytes, &charset));
                }
                if !adjacent {
                    out.push_str(between);
                }
                pending = Some((word.charset, word.bytes));
            }
        }
        rest = &rest[word.end..];
    }
    if let Some((charset, bytes)) = pending.take() {
        out.push_str(&decode_charset(bytes, &charset));
    }
    out.push_str(rest);
    out
}

struct EncodedWord {
    start: usize,
    end: usize,
    charset: String,
    bytes: Vec<u8>,
}

fn find_encoded_word(text: &str) -> Option<EncodedWord> {
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find("=?") {
        let start = search_from + found;
        if let Some(word) = parse_encoded_word(text, start) {
            return Some(word);
        }
        search_from = start + 2;
    }
    None
}

fn parse_encoded_word(text: &str, start: usize) -> Option<EncodedWord> {
    let inner = &text[start + 2..];
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let (encoded, _) = inner.split_once("?=")?;
    let is_token = |s: &str| !s.is_empty() && !s.contains(|c: char| c.is_whitespace());
    if !is_token(charset) || !is_token(encoding) || encoded.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => decode_base64(encoded.as_bytes()),
        "Q" | "q" => decode_q(encoded),
        _ => return None,
    };
    let end = start + "=?".len() + charset.len() + 1 + encoding.len() + 1 + encoded.len() + 2;
    // RFC 2231 allows a language suffix: `utf-8*uk`.
    let charset = charset.split('*').next().unwrap_or(charset).to_owned();
    Some(EncodedWord { start, end, charset, bytes })
}

/// The RFC 2047 "Q" encoding: quoted-printable where `_` stands for a space.
fn decode_q(encoded: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len());
    unescape_hex(encoded.as_bytes(), true, &mut out);
    out
}

fn decode_quoted_printable(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        let (content, had_line_break) = match line.strip_suffix('\n') {
            Some(content) => (content.strip_suffix('\r').unwrap_or(content), true),
            None => (line, false),
        };
        // Trailing whitespace is transport padding (RFC 2045 §6.7 rule 3).
        let content = content.trim_end_matches([' ', '\t']);
        let (content, soft_break) = match content.strip_suffix('=') {
            Some(content) => (content, true),
            None => (content, false),
        };
        unescape_hex(content.as_bytes(), false, &mut out);
        if had_line_break && !soft_break {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Decodes `=XX` escapes; a malformed escape is kept literally so the
/// problem stays visible in the decoded text.
fn unescape_hex(bytes: &[u8], underscore_is_space: bool, out: &mut Vec<u8>) {
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'=').then(|| bytes.get(index + 1..index + 3).and_then(hex_pair)).flatten();
        match (escaped, bytes[index]) {
            (Some(byte), _) => {
                out.push(byte);
                index += 3;
                continue;
            }
            (None, b'_') if underscore_is_space => out.push(b' '),
            (None, other) => out.push(other),
        }
        index += 1;
    }
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    match pair {
        [high, low] => Some((digit(*high)? * 16 + digit(*low)?) as u8),
        _ => None,
    }
}

/// Decodes standard base64, skipping line breaks and anything else outside
/// the alphabet as RFC 2045 §6.8 asks, and stopping at padding.
fn decode_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &c in input {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

fn decode_charset(bytes: Vec<u8>, charset: &str) -> String {
    match charset.to_ascii_lowercase().as_str() {
        // Latin-1 maps each byte to the code point of the same value.
        "iso-8859-1" | "latin1" | "us-ascii" => bytes.into_iter().map(char::from).collect(),
        // Everything lettre emits is UTF-8; anything else is shown lossily
        // rather than hidden.
        _ => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        },
    }
}

/// Finds http(s) URLs in plain text, trimming punctuation a sentence or
/// bracket may have glued to the end.
fn extract_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    loop {
        let start = [rest.find("http://"), rest.find("https://")].into_iter().flatten().min();
        let Some(start) = start else {
            return links;
        };
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
            .unwrap_or(candidate.len());
        let link = trim_link_end(&candidate[..end]);
        if !link.ends_with("://") {
            links.push(link.to_owned());
        }
        rest = &candidate[end..];
    }
}

fn trim_link_end(mut link: &str) -> &str {
    loop {
        let unbalanced =
            |open: char, close: char| link.ends_with(close) && link.matches(close).count() > link.matches(open).count();
        if link.ends_with(['.', ',', ';', ':', '!', '?']) || unbalanced('(', ')') || unbalanced('[', ']') {
            link = &link[..link.len() - 1];
        } else {
            return link;
        }
    }
}
