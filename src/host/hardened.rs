//! Rhai built-ins that adminsh replaces because they could crash or hang it: `sleep`, which
//! panics on a huge number of seconds and cannot be interrupted, and `array.pad`, whose size
//! check overflows for a huge length (a panic; in release builds the check passes and the
//! allocation aborts). The replacements behave as rhai documents them otherwise. They are not
//! host functions of adminsh's own, so they are registered on the engine directly rather than
//! listed by `:help`.

use std::time::{Duration, Instant};

use rhai::{
    Array, Blob, Dynamic, Engine, EvalAltResult, FLOAT, INT, Map, NativeCallContext, Position,
};

use super::limits::MAX_SLEEP_SECONDS;
use super::{RhaiResult, control, runtime_error};
use crate::interrupt;

pub fn register(engine: &mut Engine) {
    engine.register_fn("sleep", |seconds: INT| {
        sleep(seconds as FLOAT, &seconds.to_string())
    });
    engine.register_fn("sleep", |seconds: FLOAT| {
        sleep(seconds, &rhai::Dynamic::from_float(seconds).to_string())
    });
    engine.register_fn("pad", pad);
}

/// Waits `seconds` (nothing for zero, a negative or a NaN number, as rhai's `sleep` does),
/// waking up for Ctrl-C and SIGTERM; `given` is the number as the script wrote it.
fn sleep(seconds: FLOAT, given: &str) -> RhaiResult<()> {
    if seconds.is_nan() || seconds <= 0.0 {
        return Ok(());
    }
    if seconds > MAX_SLEEP_SECONDS as FLOAT {
        return Err(runtime_error(format!(
            "sleep takes at most {MAX_SLEEP_SECONDS} seconds (365 days), not {given}"
        )));
    }
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    loop {
        if let Some(signal) = interrupt::signal() {
            return Err(control::interrupted(signal));
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// `array.pad(len, item)`: the array grown to `len` items with copies of `item`; nothing when it
/// has that many already. Refused, before anything is allocated, when the result would be past
/// a size limit, counted as rhai counts sizes (nested items, entries and string bytes too).
fn pad(ctx: NativeCallContext, array: &mut Array, len: INT, item: Dynamic) -> RhaiResult<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    if len <= array.len() {
        return Ok(());
    }
    let pad = len - array.len();
    let (items, entries, bytes) = array_sizes(array);
    let (item_items, item_entries, item_bytes) = value_sizes(&item);
    let engine = ctx.engine();
    let over = |size: usize, max: usize| max > 0 && size > max;
    let too_large = |what: &str| -> RhaiResult<()> {
        Err(EvalAltResult::ErrorDataTooLarge(what.into(), Position::NONE).into())
    };
    let times = |n: usize| n.saturating_mul(pad);
    if over(
        items.saturating_add(pad).saturating_add(times(item_items)),
        engine.max_array_size(),
    ) {
        return too_large("Size of array/BLOB");
    }
    if over(
        entries.saturating_add(times(item_entries)),
        engine.max_map_size(),
    ) {
        return too_large("Size of object map");
    }
    if over(
        bytes.saturating_add(times(item_bytes)),
        engine.max_string_size(),
    ) {
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
