//! What a script value is, in the words the docs use (`an int`, `a map`, `a command`), for
//! errors that say what a function got instead of what it takes: never a Rust type path such
//! as `i64` or `adminsh::host::command::Cmd`.

use rhai::Dynamic;

/// The value's kind with its article: `an int`, `a string`, `a command`.
pub(crate) fn of(value: &Dynamic) -> String {
    let builtin = [
        (value.is_unit(), "()"),
        (value.is_int(), "an int"),
        (value.is_float(), "a float"),
        (value.is_bool(), "a bool"),
        (value.is_string(), "a string"),
        (value.is_char(), "a char"),
        (value.is_array(), "an array"),
        (value.is_map(), "a map"),
        (value.is_blob(), "a blob"),
        (value.is::<rhai::FnPtr>(), "a function"),
    ];
    if let Some((_, name)) = builtin.iter().find(|(is, _)| *is) {
        return (*name).to_owned();
    }
    // A host type, by the name it is registered under (the last part of its Rust path).
    let path = value.type_name();
    let name = path.rsplit("::").next().unwrap_or(path);
    match name {
        "Cmd" => "a command".to_owned(),
        "Row" => "a row".to_owned(),
        "Progress" => "a progress bar".to_owned(),
        "Time" => "a time".to_owned(),
        "Duration" => "a duration".to_owned(),
        "Regex" => "a regex".to_owned(),
        "Db" => "a database handle".to_owned(),
        other => format!("a {other}"),
    }
}
