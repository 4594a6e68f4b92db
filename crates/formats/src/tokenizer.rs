//! A streaming CSV tokenizer that knows where each record starts.
//!
//! The `csv` crate reports a record's position as the end of the previous record, before
//! blank lines and the line break are consumed, and it silently ends a quoted field at end
//! of file. A row error must name the physical line where the record starts (with quoted
//! newlines, blank lines and a preamble) and must reject a record cut off inside quotes,
//! so this module tokenizes by hand: RFC 4180 quoting, `\n`, `\r\n` and `\r` line ends.
//!
//! It reads through one fixed buffer and copies field bytes into a reused record, so memory
//! stays flat however large the file is. It must never allocate per field, and never
//! interpret bytes beyond splitting them (decoding happens per field, later).

use std::io::{self, Read};

/// One record's raw field bytes, reused from record to record.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawRecord {
    data: Vec<u8>,
    ends: Vec<usize>,
    /// The 1-based physical line on which the record starts.
    pub line: u64,
    /// The byte offset of the record's first byte in the input.
    pub byte: u64,
    /// The input ended inside a quoted field: the record is incomplete.
    pub unterminated: bool,
}

impl RawRecord {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub fn get(&self, idx: usize) -> Option<&[u8]> {
        self.range(idx).map(|r| &self.data[r])
    }

    /// The byte range of a field within [`RawRecord::bytes`].
    #[inline]
    pub fn range(&self, idx: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(idx)?;
        let start = if idx == 0 { 0 } else { self.ends[idx - 1] };
        Some(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|idx| self.get(idx))
    }

    /// All bytes of all fields, for a quick "is this all ASCII" check.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    fn end_field(&mut self) {
        self.ends.push(self.data.len());
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: either the first half of `""` or the closing quote.
    QuoteInQuoted,
}

pub(crate) struct Tokenizer<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    delimiter: u8,
    /// The physical line at `buf[pos]`.
    line: u64,
    /// The input offset of `buf[pos]`.
    offset: u64,
    /// The previous byte was `\r`, so a following `\n` ends the same line.
    after_cr: bool,
}

const BUFFER_SIZE: usize = 64 * 1024;

impl<R: Read> Tokenizer<R> {
    /// `first_line` and `offset` say where `inner` starts within the file.
    pub fn new(inner: R, delimiter: u8, first_line: u64, offset: u64) -> Self {
        Tokenizer {
            inner,
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            delimiter,
            line: first_line,
            offset,
            after_cr: false,
        }
    }

    /// Bytes of input consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Makes sure at least one byte is buffered; `false` at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    self.pos = 0;
                    self.len = 0;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    /// Counts a line break byte for line numbering; `\r\n` is one break.
    fn count_break(&mut self, b: u8) {
        match b {
            b'\n' if self.after_cr => self.after_cr = false,
            b'\n' => self.line += 1,
            b'\r' => {
                self.line += 1;
                self.after_cr = true;
            }
            _ => self.after_cr = false,
        }
    }

    /// Reads the next record into `rec`; `false` at end of input. Blank lines are skipped.
    pub fn read_record(&mut self, rec: &mut RawRecord) -> io::Result<bool> {
        rec.data.clear();
        rec.ends.clear();
        rec.unterminated = false;
        // Skip line breaks left over from the previous record and blank lines.
        loop {
            if !self.fill()? {
                return Ok(false);
            }
            let b = self.buf[self.pos];
            if b == b'\n' || b == b'\r' {
                self.count_break(b);
                self.advance(1);
            } else {
                break;
            }
        }
        self.after_cr = false;
        rec.line = self.line;
        rec.byte = self.offset;
        let delimiter = self.delimiter;
        let mut state = State::StartField;
        loop {
            if !self.fill()? {
                if state == State::InQuoted {
                    rec.unterminated = true;
                }
                rec.end_field();
                return Ok(true);
            }
            match state {
                State::StartField => {
                    let b = self.buf[self.pos];
                    if b == b'"' {
                        self.advance(1);
                        state = State::InQuoted;
                    } else if b == delimiter {
                        self.advance(1);
                        rec.end_field();
                    } else if b == b'\n' || b == b'\r' {
                        rec.end_field();
                        return Ok(true);
                    } else {
                        state = State::InField;
                    }
                }
                State::InField => {
                    // Copy the run up to the next delimiter or line break in one go.
                    let chunk = &self.buf[self.pos..self.len];
                    let stop = chunk
                        .iter()
                        .position(|&b| b == delimiter || b == b'\n' || b == b'\r');
                    match stop {
                        Some(n) => {
                            rec.data.extend_from_slice(&chunk[..n]);
                            let b = chunk[n];
                            self.advance(n);
                            rec.end_field();
                            if b == delimiter {
                                self.advance(1);
                                state = State::StartField;
                            } else {
                                return Ok(true);
                            }
                        }
                        None => {
                            rec.data.extend_from_slice(chunk);
                            let n = chunk.len();
                            self.advance(n);
                        }
                    }
                }
                State::InQuoted => {
                    let chunk = &self.buf[self.pos..self.len];
                    let stop = chunk
                        .iter()
                        .position(|&b| b == b'"' || b == b'\n' || b == b'\r');
                    match stop {
                        Some(n) => {
                            rec.data.extend_from_slice(&chunk[..n]);
                            let b = chunk[n];
                            self.advance(n + 1);
                            if n > 0 || b == b'"' {
                                self.after_cr = false;
                            }
                            if b == b'"' {
                                state = State::QuoteInQuoted;
                            } else {
                                rec.data.push(b);
                                self.count_break(b);
                            }
                        }
                        None => {
                            rec.data.extend_from_slice(chunk);
                            let n = chunk.len();
                            self.advance(n);
                        }
                    }
                }
                State::QuoteInQuoted => {
                    let b = self.buf[self.pos];
                    if b == b'"' {
                        rec.data.push(b'"');
                        self.advance(1);
                        state = State::InQuoted;
                    } else if b == delimiter {
                        self.advance(1);
                        rec.end_field();
                        state = State::StartField;
                    } else if b == b'\n' || b == b'\r' {
                        rec.end_field();
                        return Ok(true);
                    } else {
                        // Text after a closing quote (`"ab"cd`) is kept, as Excel does.
                        state = State::InField;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], delimiter: u8) -> Vec<(u64, Vec<String>, bool)> {
        // A tiny buffer would be better for boundary tests, so read one byte at a time.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || out.is_empty() {
                    return Ok(0);
                }
                out[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut out = Vec::new();
        for slow in [false, true] {
            let mut got = Vec::new();
            let mut rec = RawRecord::default();
            let reader: Box<dyn Read> = if slow {
                Box::new(OneByte(input))
            } else {
                Box::new(input)
            };
            let mut tok = Tokenizer::new(reader, delimiter, 1, 0);
            while tok.read_record(&mut rec).unwrap() {
                let fields = rec
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                got.push((rec.line, fields, rec.unterminated));
            }
            if slow {
                assert_eq!(
                    got, out,
                    "byte-at-a-time reading must give the same records"
                );
            } else {
                out = got;
            }
        }
        out
    }

    fn row(line: u64, fields: &[&str]) -> (u64, Vec<String>, bool) {
        (line, fields.iter().map(|s| s.to_string()).collect(), false)
    }

    #[test]
    fn records_know_the_line_they_start_on() {
        let got = records(b"h1;h2\r\na;\"b\nc\"\r\n\r\n\r\nd;e\r\n", b';');
        assert_eq!(
            got,
            vec![
                row(1, &["h1", "h2"]),
                row(2, &["a", "b\nc"]),
                row(6, &["d", "e"])
            ]
        );
    }

    #[test]
    fn quotes_commas_and_empty_fields_follow_rfc_4180() {
        let got = records(b"a,\"x,\"\"y\"\"\",,\"\"\nlast,\"ab\"cd", b',');
        assert_eq!(
            got,
            vec![row(1, &["a", "x,\"y\"", "", ""]), row(2, &["last", "abcd"])]
        );
    }

    #[test]
    fn line_ends_may_be_mixed_and_old_mac_style() {
        let got = records(b"a\rb\nc\r\nd", b';');
        assert_eq!(
            got,
            vec![
                row(1, &["a"]),
                row(2, &["b"]),
                row(3, &["c"]),
                row(4, &["d"])
            ]
        );
    }

    #[test]
    fn a_quote_left_open_at_the_end_marks_the_record_unterminated() {
        let got = records(b"h1,h2\nx,\"open\nmore\n", b',');
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, 2);
        assert!(got[1].2);
    }

    #[test]
    fn a_trailing_delimiter_gives_an_empty_last_field() {
        let got = records(b"a;b;\n", b';');
        assert_eq!(got, vec![row(1, &["a", "b", ""])]);
    }
}
