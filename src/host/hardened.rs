//! Rhai built-ins that adminsh replaces because they could crash or hang it: the built-ins that
//! make data out of a number, checked against the size limits of `limits.rs` before anything
//! is allocated (the engine has no size limits, so rhai's own would ask for terabytes and
//! abort): `blob(n)`, `blob(n, byte)` and `pad` for arrays, blobs and strings. Rhai's
//! `array.pad` also overflowed computing sizes, and `string.pad` looped forever on an empty
//! padding and added one character at a time. (Rhai's `sleep`, which panicked on a huge number
//! and could not be interrupted, is replaced by the host function in `waiting.rs`.)
//!
//! The replacements behave as rhai documents them otherwise. They are not host functions of
//! adminsh's own, so they are registered on the engine directly rather than listed by `:help`.

use rhai::{
    Array, Blob, Dynamic, Engine, EvalAltResult, FuncRegistration, INT, ImmutableString, Map,
    Position,
};

use super::def::{RhaiResult, runtime_error};
use crate::limits::{MAX_ARRAY_ITEMS, MAX_BLOB_BYTES, MAX_MAP_ENTRIES, MAX_STRING_BYTES};

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn("blob", |len: INT| blob(len, 0));
    engine.register_fn("blob", blob);
    // `pad` changes its receiver: not pure, so rhai refuses it on a constant, as its own.
    let pad = || FuncRegistration::new("pad").with_purity(false);
    pad().register_into_engine(engine, pad_array);
    pad().register_into_engine(
        engine,
        |text: &mut ImmutableString, len: INT, padding: char| {
            pad_string(text, len, padding.encode_utf8(&mut [0; 4]))
        },
    );
    pad().register_into_engine(
        engine,
        |text: &mut ImmutableString, len: INT, padding: &str| pad_string(text, len, padding),
    );
    pad().register_into_engine(engine, |bytes: &mut Blob, len: INT, value: INT| {
        let Ok(len) = usize::try_from(len) else {
            return Ok(());
        };
        if len > MAX_BLOB_BYTES {
            return too_large("Size of BLOB");
        }
        if len > bytes.len() {
            bytes.resize(len, value.to_le_bytes()[0]);
        }
        Ok(())
    });
}

fn too_large<T>(what: &str) -> RhaiResult<T> {
    Err(EvalAltResult::ErrorDataTooLarge(what.into(), Position::NONE).into())
}

/// `blob(len, byte)`: `len` bytes (none for a negative length), each the low 8 bits of `byte`.
fn blob(len: INT, byte: INT) -> RhaiResult<Blob> {
    let len = usize::try_from(len).unwrap_or(0);
    if len > MAX_BLOB_BYTES {
        return too_large("Size of BLOB");
    }
    Ok(vec![byte.to_le_bytes()[0]; len])
}

/// `array.pad(len, item)`: the array grown to `len` items with copies of `item`; nothing when it
/// has that many already. Refused, before anything is allocated, when the result would be past
/// a size limit, counted as rhai counts sizes (nested items, entries and string bytes too).
fn pad_array(array: &mut Array, len: INT, item: Dynamic) -> RhaiResult<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    if len <= array.len() {
        return Ok(());
    }
    let pad = len - array.len();
    let (items, entries, bytes) = array_sizes(array);
    let (item_items, item_entries, item_bytes) = value_sizes(&item);
    let times = |n: usize| n.saturating_mul(pad);
    if items.saturating_add(pad).saturating_add(times(item_items)) > MAX_ARRAY_ITEMS {
        return too_large("Size of array");
    }
    if entries.saturating_add(times(item_entries)) > MAX_MAP_ENTRIES {
        return too_large("Size of object map");
    }
    if bytes.saturating_add(times(item_bytes)) > MAX_STRING_BYTES {
        return too_large("Length of string");
    }
    array.resize(len, item);
    Ok(())
}

/// What a value counts for against the size limits, as rhai's own check counts it: (array
/// items and blob bytes, map entries, string bytes).
fn value_sizes(value: &Dynamic) -> (usize, usize, usize) {
    if let Some(array) = value.read_lock::<Array>() {
        array_sizes(&array)
    } else if let Some(blob) = value.read_lock::<Blob>() {
        (blob.len(), 0, 0)
    } else if let Some(map) = value.read_lock::<Map>() {
        map_sizes(&map)
    } else if let Some(row) = value.read_lock::<crate::row::Row>() {
        let mut total = (0, row.len(), 0);
        for item in row.values() {
            add(&mut total, nested_sizes(item));
        }
        total
    } else if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        (0, 0, text.len())
    } else {
        (0, 0, 0)
    }
}

fn array_sizes(array: &Array) -> (usize, usize, usize) {
    let mut total = (array.len(), 0, 0);
    for item in array {
        add(&mut total, nested_sizes(item));
    }
    total
}

fn map_sizes(map: &Map) -> (usize, usize, usize) {
    let mut total = (0, map.len(), 0);
    for item in map.values() {
        add(&mut total, nested_sizes(item));
    }
    total
}

/// A value inside an array or map: a blob there counts one more item than on its own.
fn nested_sizes(value: &Dynamic) -> (usize, usize, usize) {
    let (items, entries, bytes) = value_sizes(value);
    let blob = usize::from(value.is_blob());
    (items.saturating_add(blob), entries, bytes)
}

fn add(total: &mut (usize, usize, usize), (a, m, s): (usize, usize, usize)) {
    total.0 = total.0.saturating_add(a);
    total.1 = total.1.saturating_add(m);
    total.2 = total.2.saturating_add(s);
}

/// `text.pad(len, padding)`: the string grown to `len` characters with copies of `padding`
/// (the last one cut short); nothing when it has that many already. The size of the result is
/// checked before anything is allocated.
fn pad_string(text: &mut ImmutableString, len: INT, padding: &str) -> RhaiResult<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    if len > MAX_STRING_BYTES {
        return too_large("Length of string");
    }
    let has = text.chars().count();
    if len <= has {
        return Ok(());
    }
    let unit = padding.chars().count();
    if unit == 0 {
        return Err(runtime_error("pad: the padding is empty"));
    }
    let missing = len - has;
    let (copies, rest) = (missing / unit, missing % unit);
    let rest_bytes: usize = padding.chars().take(rest).map(char::len_utf8).sum();
    let bytes = copies
        .checked_mul(padding.len())
        .and_then(|b| b.checked_add(text.len() + rest_bytes))
        .unwrap_or(usize::MAX);
    if bytes > MAX_STRING_BYTES {
        return too_large("Length of string");
    }
    let mut out = String::with_capacity(bytes);
    out.push_str(text);
    // Copies by doubling what is there: a few large copies, not one per character.
    let start = out.len();
    if copies > 0 {
        out.push_str(padding);
        let mut done = 1;
        while done < copies {
            let more = done.min(copies - done);
            out.extend_from_within(start..start + more * padding.len());
            done += more;
        }
    }
    out.extend(padding.chars().take(rest));
    *text = out.into();
    Ok(())
}
