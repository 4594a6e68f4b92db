//! Reading the first (or a named) sheet of an XLSX file with calamine, after checking the
//! ZIP container for bombs.
//!
//! calamine unpacks a whole sheet into memory, so before it sees a byte this module reads
//! the ZIP central directory by hand and refuses archives whose declared sizes or
//! compression ratios are implausible for a spreadsheet. It must never hand calamine an
//! unchecked archive, and never turn a typed cell into text where the type matters (a date
//! cell stays a date, a number in a money column is rounded to the cent, not re-parsed).

use std::io::Cursor;

use calamine::{Data, Range, Reader as _, Xlsx};

use crate::error::FileError;

/// Files larger than this are refused as XLSX; CSV is read as a stream instead.
pub(crate) const MAX_XLSX_FILE: u64 = 100 * 1024 * 1024;
/// The most all entries of the archive may unpack to.
const MAX_TOTAL_UNPACKED: u64 = 1024 * 1024 * 1024;
/// The highest compression ratio accepted for a large entry (sheet XML compresses about 10–30x).
const MAX_RATIO: u64 = 200;
/// Entries below this size may have any ratio (a tiny, highly repetitive XML file is normal).
const RATIO_FREE_BELOW: u64 = 1024 * 1024;
const MAX_ENTRIES: u64 = 10_000;

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2)
        .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 4)
        .map(|s| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Checks the declared sizes in the ZIP central directory.
pub(crate) fn check_zip(file: &str, bytes: &[u8]) -> Result<(), FileError> {
    let damaged = |what: &str| FileError::Xlsx {
        file: file.to_string(),
        reason: format!("the ZIP container is damaged ({what})"),
    };
    // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
    let search_from = bytes.len().saturating_sub(65_557);
    let eocd = (search_from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| damaged("no directory"))?;
    let mut n_entries = u16_at(bytes, eocd + 10).ok_or_else(|| damaged("short directory"))?;
    let mut cd_offset = u32_at(bytes, eocd + 16).ok_or_else(|| damaged("short directory"))?;
    if (n_entries == 0xFFFF || cd_offset == 0xFFFF_FFFF) && eocd >= 20 {
        // ZIP64: the locator just before the record points at the ZIP64 record.
        let locator = eocd - 20;
        if bytes[locator..locator + 4] == [0x50, 0x4b, 0x06, 0x07] {
            let record =
                u64_at(bytes, locator + 8).ok_or_else(|| damaged("ZIP64 locator"))? as usize;
            if bytes.get(record..record + 4) != Some(&[0x50, 0x4b, 0x06, 0x06][..]) {
                return Err(damaged("ZIP64 record"));
            }
            n_entries = u64_at(bytes, record + 32).ok_or_else(|| damaged("ZIP64 record"))?;
            cd_offset = u64_at(bytes, record + 48).ok_or_else(|| damaged("ZIP64 record"))?;
        }
    }
    if n_entries > MAX_ENTRIES {
        return Err(FileError::ZipBomb {
            file: file.to_string(),
            declared: 0,
            detail: format!(" in {n_entries} parts"),
        });
    }
    let mut at = usize::try_from(cd_offset).map_err(|_| damaged("directory offset"))?;
    let mut total: u64 = 0;
    for _ in 0..n_entries {
        if bytes.get(at..at + 4) != Some(&[0x50, 0x4b, 0x01, 0x02][..]) {
            return Err(damaged("directory entry"));
        }
        let mut compressed = u32_at(bytes, at + 20).ok_or_else(|| damaged("entry"))?;
        let mut unpacked = u32_at(bytes, at + 24).ok_or_else(|| damaged("entry"))?;
        let name_len = u16_at(bytes, at + 28).ok_or_else(|| damaged("entry"))? as usize;
        let extra_len = u16_at(bytes, at + 30).ok_or_else(|| damaged("entry"))? as usize;
        let comment_len = u16_at(bytes, at + 32).ok_or_else(|| damaged("entry"))? as usize;
        let name_start = at + 46;
        let extra_start = name_start + name_len;
        if unpacked == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF {
            // The ZIP64 extra field holds the real sizes, in this order, when flagged.
            let extra = bytes
                .get(extra_start..extra_start + extra_len)
                .ok_or_else(|| damaged("entry"))?;
            let mut i = 0;
            while i + 4 <= extra.len() {
                let id = u16_at(extra, i).unwrap_or(0);
                let size = u16_at(extra, i + 2).unwrap_or(0) as usize;
                if id == 1 {
                    let mut j = i + 4;
                    if unpacked == 0xFFFF_FFFF {
                        unpacked = u64_at(extra, j).ok_or_else(|| damaged("ZIP64 sizes"))?;
                        j += 8;
                    }
                    if compressed == 0xFFFF_FFFF {
                        compressed = u64_at(extra, j).ok_or_else(|| damaged("ZIP64 sizes"))?;
                    }
                    break;
                }
                i += 4 + size;
            }
        }
        let name = String::from_utf8_lossy(bytes.get(name_start..extra_start).unwrap_or_default())
            .into_owned();
        if unpacked >= RATIO_FREE_BELOW && unpacked / compressed.max(1) > MAX_RATIO {
            return Err(FileError::ZipBomb {
                file: file.to_string(),
                declared: unpacked,
                detail: format!(" from {compressed} packed bytes in \"{name}\""),
            });
        }
        total = total.saturating_add(unpacked);
        if total > MAX_TOTAL_UNPACKED {
            return Err(FileError::ZipBomb {
                file: file.to_string(),
                declared: total,
                detail: String::new(),
            });
        }
        at = extra_start + extra_len + comment_len;
    }
    Ok(())
}

/// Opens the sheet (the first, or the named one) after the bomb check.
pub(crate) fn open_sheet(
    file: &str,
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<(String, Range<Data>), FileError> {
    check_zip(file, &bytes)?;
    let err = |reason: String| FileError::Xlsx {
        file: file.to_string(),
        reason,
    };
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| err(e.to_string()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .cloned()
            .ok_or_else(|| {
                err(format!(
                    "the mapping file names the sheet \"{wanted}\", but the workbook has {}",
                    names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| err("the workbook has no sheet".to_string()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e: calamine::XlsxError| err(e.to_string()))?;
    Ok((name, range))
}

/// A number cell as text (`12345`, not `12345.0`), for id and text fields.
pub(crate) fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A cell as the text a user sees in the header or in a text field; typed cells that the
/// sample's decimal and date sniffing must not look at become empty when `text_only`.
pub(crate) fn cell_text(cell: &Data, text_only: bool) -> String {
    match cell {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        _ if text_only => String::new(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt.as_datetime().map(|d| d.to_string()).unwrap_or_default(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal stored ZIP with one entry claiming the given sizes.
    fn zip_with_entry(compressed: u32, unpacked: u32) -> Vec<u8> {
        let name = b"xl/worksheets/sheet1.xml";
        let mut out = Vec::new();
        // Local header (content not needed for the directory check).
        out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04]);
        out.extend_from_slice(&[0; 26]);
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02]);
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&unpacked.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(name);
        let cd_size = out.len() as u32 - cd_offset;
        out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn archives_with_implausible_sizes_are_refused_before_unpacking() {
        assert!(check_zip("ok.xlsx", &zip_with_entry(50_000, 900_000)).is_ok());
        assert!(check_zip("small.xlsx", &zip_with_entry(10, 500_000)).is_ok());
        let bomb = check_zip("bomb.xlsx", &zip_with_entry(1_000, 900_000_000)).unwrap_err();
        assert!(matches!(bomb, FileError::ZipBomb { .. }), "{bomb}");
        assert!(bomb.to_string().contains("Export the sheet as CSV"));
        let broken = check_zip("broken.xlsx", b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(matches!(broken, FileError::Xlsx { .. }), "{broken}");
    }

    #[test]
    fn number_cells_print_like_excel_shows_them() {
        assert_eq!(number_text(12345.0), "12345");
        assert_eq!(number_text(12.5), "12.5");
    }
}
