//! `PostgreSQL` values both ways: a row's binary values as Rhai values (numeric as exact text,
//! json as data, timestamps as ISO-8601, arrays as arrays), and a script's values as parameters,
//! each encoded for the type the server inferred for its `$n` (as text, parsed by the server,
//! for every type without a binary encoder here).

use std::error::Error as StdError;

use postgres_protocol::types as pg;
use rhai::{Array, Dynamic};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use super::DbError;
use super::value;

type BoxError = Box<dyn StdError + Sync + Send>;

/// A row's values, typed.
pub(crate) fn values(row: &tokio_postgres::Row) -> Result<Vec<Dynamic>, DbError> {
    (0..row.len())
        .map(|i| {
            row.try_get::<_, Cell>(i).map(|c| c.0).map_err(|e| {
                let column = row.columns()[i].name();
                DbError::failed(format!(
                    "column `{column}`: {}",
                    e.source()
                        .map_or_else(|| e.to_string(), ToString::to_string)
                ))
            })
        })
        .collect()
}

/// One value from the server, as Rhai sees it.
struct Cell(Dynamic);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Dynamic::UNIT))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Microseconds from 1970-01-01 to 2000-01-01, `PostgreSQL`'s epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_DAYS: i64 = 10_957;

fn decode(ty: &Type, raw: &[u8]) -> Result<Dynamic, BoxError> {
    Ok(match *ty {
        Type::BOOL => pg::bool_from_sql(raw)?.into(),
        Type::INT2 => Dynamic::from_int(i64::from(pg::int2_from_sql(raw)?)),
        Type::INT4 => Dynamic::from_int(i64::from(pg::int4_from_sql(raw)?)),
        Type::INT8 => Dynamic::from_int(pg::int8_from_sql(raw)?),
        Type::OID | Type::XID | Type::CID => Dynamic::from_int(i64::from(pg::oid_from_sql(raw)?)),
        Type::FLOAT4 => Dynamic::from_float(f64::from(pg::float4_from_sql(raw)?)),
        Type::FLOAT8 => Dynamic::from_float(pg::float8_from_sql(raw)?),
        Type::BYTEA => Dynamic::from_blob(raw.to_vec()),
        Type::JSON => value::from_json(std::str::from_utf8(raw)?)?,
        Type::JSONB => match raw.split_first() {
            Some((1, json)) => value::from_json(std::str::from_utf8(json)?)?,
            _ => return Err("unknown jsonb version".into()),
        },
        Type::NUMERIC => numeric(raw)?.into(),
        Type::DATE => match pg::date_from_sql(raw)? {
            i32::MAX => "infinity".into(),
            i32::MIN => "-infinity".into(),
            days => value::date(i64::from(days) + PG_EPOCH_DAYS).into(),
        },
        Type::TIMESTAMP | Type::TIMESTAMPTZ => match pg::timestamp_from_sql(raw)? {
            i64::MAX => "infinity".into(),
            i64::MIN => "-infinity".into(),
            micros => value::timestamp(micros + PG_EPOCH_MICROS, *ty == Type::TIMESTAMPTZ).into(),
        },
        Type::TIME => value::time(pg::time_from_sql(raw)?).into(),
        Type::UUID => uuid(pg::uuid_from_sql(raw)?).into(),
        Type::CHAR => Dynamic::from(char::from(*raw.first().unwrap_or(&0)).to_string()),
        _ => match ty.kind() {
            Kind::Array(member) => array(member, raw)?,
            Kind::Domain(inner) => decode(inner, raw)?,
            Kind::Simple | Kind::Enum(_) if is_text(ty) => {
                std::str::from_utf8(raw)?.to_owned().into()
            }
            _ => {
                return Err(format!(
                    "std/db cannot read type {} yet; cast it in the query (`::text`)",
                    ty.name()
                )
                .into());
            }
        },
    })
}

/// Types whose binary form is their text: text itself, names, enums, citext.
fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || matches!(ty.kind(), Kind::Enum(_))
        || ty.name() == "citext"
}

fn array(member: &Type, raw: &[u8]) -> Result<Dynamic, BoxError> {
    let array = pg::array_from_sql(raw)?;
    let dims: Vec<usize> = {
        use postgres_protocol::types::ArrayDimension;
        let mut dims = Vec::new();
        let mut it = array.dimensions();
        while let Some(ArrayDimension { len, .. }) =
            fallible_iterator::FallibleIterator::next(&mut it)?
        {
            dims.push(usize::try_from(len).unwrap_or(0));
        }
        dims
    };
    let mut flat = Vec::new();
    let mut values = array.values();
    while let Some(v) = fallible_iterator::FallibleIterator::next(&mut values)? {
        flat.push(match v {
            Some(raw) => decode(member, raw)?,
            None => Dynamic::UNIT,
        });
    }
    Ok(nest(&dims, &mut flat.into_iter()))
}

/// Flat values as nested arrays of these dimensions.
fn nest(dims: &[usize], flat: &mut impl Iterator<Item = Dynamic>) -> Dynamic {
    match dims.split_first() {
        None => Dynamic::from_array(Array::new()),
        Some((&n, [])) => Dynamic::from_array(flat.take(n).collect()),
        Some((&n, rest)) => Dynamic::from_array((0..n).map(|_| nest(rest, flat)).collect()),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn uuid(bytes: [u8; 16]) -> String {
    let hex = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// NUMERIC's binary form (base-10000 digits, a weight, a sign, a scale) as its exact text.
fn numeric(raw: &[u8]) -> Result<String, BoxError> {
    let word = |i: usize| -> Result<i32, BoxError> {
        let b = raw.get(i * 2..i * 2 + 2).ok_or("a short numeric")?;
        Ok(i32::from(i16::from_be_bytes([b[0], b[1]])))
    };
    let ndigits = usize::try_from(word(0)?).map_err(|_| "a bad numeric")?;
    let weight = word(1)?;
    let sign = u16::from_be_bytes([
        raw.get(4).copied().unwrap_or(0),
        raw.get(5).copied().unwrap_or(0),
    ]);
    let dscale = usize::try_from(word(3)?).map_err(|_| "a bad numeric")?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i32> = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<_, _>>()?;
    let digit = |i: i32| -> i32 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    // The integer part: the digit groups at weights weight..=0.
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i);
            if i == 0 {
                out.push_str(&d.to_string());
            } else {
                out.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// A script value as a parameter, converted before it is sent (the driver wants `Sync`
/// values; a script's are not).
#[derive(Debug)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    /// A map: JSON.
    Map(String),
    /// An array: its `PostgreSQL` array literal, and its JSON.
    Array {
        literal: String,
        json: String,
    },
}

/// A parameter (its position, for messages), encoded for the type the server gave its
/// placeholder.
#[derive(Debug)]
pub(crate) struct Param(usize, Val);

impl Param {
    fn new(i: usize, v: &Dynamic) -> Result<Param, DbError> {
        let fail = |e: String| DbError::failed(format!("parameter ${}: {e}", i + 1));
        let val = if v.is_unit() {
            Val::Null
        } else if let Ok(b) = v.as_bool() {
            Val::Bool(b)
        } else if let Ok(n) = v.as_int() {
            Val::Int(n)
        } else if let Ok(f) = v.as_float() {
            Val::Float(f)
        } else if v.is_string() || v.is_char() {
            Val::Text(v.to_string())
        } else if let Some(blob) = v.read_lock::<rhai::Blob>() {
            Val::Blob(blob.clone())
        } else if v.is_map() || v.is::<crate::row::Row>() {
            Val::Map(value::to_json(v).map_err(fail)?)
        } else if v.is_array() {
            Val::Array {
                literal: array_literal(v).map_err(fail)?,
                json: value::to_json(v).map_err(fail)?,
            }
        } else {
            return Err(fail(format!(
                "{} cannot be a parameter",
                crate::kind::of(v)
            )));
        };
        Ok(Param(i, val))
    }

    pub(crate) fn all(params: &[Dynamic]) -> Result<Vec<Param>, DbError> {
        params
            .iter()
            .enumerate()
            .map(|(i, v)| Param::new(i, v))
            .collect()
    }

    /// Whether the value goes in binary; every other goes as text, parsed by the server (the
    /// types without a binary encoder here: numeric, dates, uuid, json, arrays, enums...).
    fn binary(&self, ty: &Type) -> bool {
        matches!(
            (&self.1, ty),
            (Val::Bool(_), &Type::BOOL)
                | (
                    Val::Int(_),
                    &Type::INT2 | &Type::INT4 | &Type::INT8 | &Type::OID
                )
                | (Val::Int(_) | Val::Float(_), &Type::FLOAT4 | &Type::FLOAT8)
                | (Val::Blob(_) | Val::Text(_), &Type::BYTEA)
        )
    }
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let n = self.0 + 1;
        let range = |v: &i64, what: &str| format!("parameter ${n}: {v} does not fit {what}");
        match (&self.1, ty) {
            (Val::Null, _) => return Ok(IsNull::Yes),
            (Val::Bool(b), &Type::BOOL) => pg::bool_to_sql(*b, out),
            (Val::Int(i), &Type::INT2) => {
                pg::int2_to_sql(i16::try_from(*i).map_err(|_| range(i, "smallint"))?, out);
            }
            (Val::Int(i), &Type::INT4) => {
                pg::int4_to_sql(i32::try_from(*i).map_err(|_| range(i, "integer"))?, out);
            }
            (Val::Int(i), &Type::OID) => {
                pg::oid_to_sql(u32::try_from(*i).map_err(|_| range(i, "oid"))?, out);
            }
            (Val::Int(i), &Type::INT8) => pg::int8_to_sql(*i, out),
            (Val::Int(i), &Type::FLOAT4) => pg::float4_to_sql(*i as f32, out),
            (Val::Int(i), &Type::FLOAT8) => pg::float8_to_sql(*i as f64, out),
            #[allow(clippy::cast_possible_truncation)]
            (Val::Float(f), &Type::FLOAT4) => pg::float4_to_sql(*f as f32, out),
            (Val::Float(f), &Type::FLOAT8) => pg::float8_to_sql(*f, out),
            (Val::Blob(b), &Type::BYTEA) => out.extend_from_slice(b),
            (Val::Text(t), &Type::BYTEA) => out.extend_from_slice(t.as_bytes()),
            (val, ty) => {
                let text = text(val, ty).map_err(|e| format!("parameter ${n}: {e}"))?;
                out.extend_from_slice(text.as_bytes());
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> tokio_postgres::types::Format {
        if self.binary(ty) {
            tokio_postgres::types::Format::Binary
        } else {
            tokio_postgres::types::Format::Text
        }
    }

    to_sql_checked!();
}

/// A value in `PostgreSQL`'s text form for `ty`.
fn text(v: &Val, ty: &Type) -> Result<String, String> {
    let json = matches!(*ty, Type::JSON | Type::JSONB);
    let is_array = matches!(ty.kind(), Kind::Array(_));
    Ok(match v {
        Val::Null => String::new(),
        Val::Array { json: j, .. } if json => j.clone(),
        Val::Map(j) if json => j.clone(),
        Val::Array { literal, .. } if is_array => literal.clone(),
        Val::Array { .. } => {
            return Err(format!(
                "an array is a parameter for a PostgreSQL array (as in `id = ANY($1)`) or json, not for {ty}"
            ));
        }
        Val::Map(_) => {
            return Err(format!(
                "a map is a parameter for json or jsonb, not for {ty}"
            ));
        }
        _ if is_array => return Err(format!("{ty} takes an array")),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => float_text(*f),
        Val::Text(t) => t.clone(),
        Val::Blob(b) => format!("\\x{}", hex(b)),
    })
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{f:?}")
    }
}

/// `{1,2,"it's \"x\"",NULL}`.
fn array_literal(v: &Dynamic) -> Result<String, String> {
    let items = v.read_lock::<Array>().ok_or("an array")?;
    let mut parts = Vec::with_capacity(items.len());
    for item in items.iter() {
        parts.push(if item.is_unit() {
            "NULL".to_owned()
        } else if item.is_array() {
            array_literal(item)?
        } else if let Ok(f) = item.as_float() {
            float_text(f)
        } else if item.is_string() || item.is_char() || item.is_int() || item.is_bool() {
            let text = item.to_string();
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            return Err(format!(
                "an array holding {} cannot be a parameter",
                crate::kind::of(item)
            ));
        });
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerics_keep_every_digit() {
        // 12345.6789: weight 1, digits [1, 2345, 6789], scale 4.
        let raw = [0, 3, 0, 1, 0, 0, 0, 4, 0, 1, 0x09, 0x29, 0x1a, 0x85];
        assert_eq!(numeric(&raw).unwrap(), "12345.6789");
        // -0.0012: weight -1, digits [12], scale 4.
        let raw = [0, 1, 0xff, 0xff, 0x40, 0, 0, 4, 0, 12];
        assert_eq!(numeric(&raw).unwrap(), "-0.0012");
        // 1e20: weight 5, digits [1], scale 0.
        let raw = [0, 1, 0, 5, 0, 0, 0, 0, 0, 1];
        assert_eq!(numeric(&raw).unwrap(), "100000000000000000000");
    }

    #[test]
    fn array_parameters_are_quoted() {
        let v: Dynamic = vec![
            Dynamic::from("it's \"x\""),
            Dynamic::UNIT,
            Dynamic::from(3_i64),
        ]
        .into();
        assert_eq!(array_literal(&v).unwrap(), r#"{"it's \"x\"",NULL,"3"}"#);
    }
}
