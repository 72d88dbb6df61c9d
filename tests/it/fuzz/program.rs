//! The programs the fuzzer runs: statements over host calls, rhai built-ins and odd values,
//! from a small grammar with tables of values.
//!
//! Tests run as root, so what a program may touch is decided here, by construction: a function
//! that writes, removes, renames, copies, appends, makes directories or changes permissions
//! only ever gets a path from `INSIDE` (relative, no `..`, inside the run's temporary app),
//! never a value of another kind; the shell only runs the scripts in `SHELL`, which write no
//! file; commands only run the programs in `PROGRAMS`, which change nothing. Odd absolute paths
//! (`/`, `/dev/null`) are only ever read. A program to be mangled (whose text random edits can
//! turn into anything) is made without writing functions and without the shell, and runs
//! under `--read-only`. Databases are `SQLite` files inside the app (or in memory) and servers
//! on a closed local port, given only the statements in `SQL` (no `ATTACH`, no `VACUUM INTO`).
//! The tests at the end hold the tables to this.

use super::Rng;

/// A generator of small programs: statements over host calls, built-ins and odd values.
pub(super) struct Program<'r> {
    rng: &'r mut Rng,
    /// Variables defined so far (strict mode refuses others).
    vars: Vec<String>,
    depth: usize,
    /// Whether functions that write and the shell may be called (not in a program to be
    /// mangled).
    writes: bool,
}

/// Function specs: a name and the kinds of its arguments (`C` a command as receiver), `s`
/// string, `w` a path inside the app (the only kind a writing function gets for a path), `h` a
/// shell script from `SHELL`, `i` int, `f` float, `n` any number, `a` array, `m` map, `b`
/// blob, `p` function, `r` a pattern (a string or a regex), `T` a time, `U` a duration, `B` a
/// database handle, `Q` a database URL from `DATABASES`, `q` a statement from `SQL`, `x`
/// anything. A leading `.` calls it as a method on the first argument.
#[rustfmt::skip]
const HOST: &[&str] = &[
    "cmd s", "cmd sa", "sh h", "app s", "app sa", ".arg Cx", ".args Ca", ".env Csx",
    ".env_remove Cs", ".dir Cs", ".stdin Cs", ".stdin Cb", ".pipe CC", ".timeout Ci",
    ".timeout Cf", ".read_only C", ".unchecked C", ".to_string C", ".to_debug C", ".run C",
    ".read C", ".read_bytes C", ".lines C", ".output C", ".each_line Cp", "env s", "env sx",
    "has_env s", "set_env sx", "fail x", "parse_json s", "to_json x", "to_json xx", "parse_url s",
    "read_file s", "write_file ws", "exists s", "glob s", "info x", "warn x", "error x",
    "procfile", "proc s", "progress i", ".inc P", ".inc Pi", ".message Ps", ".finish P",
    "each_progress ap", "confirm s", "ask ss", "step sp", "sleep d", "exit i", "eval s",
    // Files.
    "append_file ws", "mkdir w", "remove w", "rename ww", "copy ww", "stat s", "file_size s",
    "file_mtime s", "temp_dir", "which s", "sha256_file s", "sha1_file s", "md5_file s",
    // Text, codecs, formats.
    "regex s", "regex ss", "re_match sr", "re_find sr", "re_find_all sr", "re_captures sr",
    "re_captures_all sr", "re_replace srs", "re_split sr", "re_escape s", "base64_encode x",
    "base64url_encode x", "base64_decode s", "hex_encode x", "hex_decode s", "sha256 x", "sha1 x",
    "md5 x", "uuid", "uuid_v7", "parse_csv s", "parse_csv sm", "to_csv a", "to_csv aa",
    "parse_toml s", "to_toml m", "parse_yaml s", "to_yaml x", "to_json xl",
    // Lines of a command's output.
    ".count_lines C", ".grep_count Cr", ".grep Cr", ".head Ci", ".tail Ci", ".columns C",
    ".columns Cs",
    // Waiting, time.
    "retry idp", "wait_until dp", "wait_until ddp", "now", "now_local", "parse_time s",
    "parse_time ss", "from_unix i", "from_unix_millis i", "seconds n", "minutes n", "hours i",
    "days i", "weeks n", "duration s", ".unix T", ".unix_millis T", ".format Ts", ".to_rfc2822 T",
    ".in_zone Ts", ".zone T", ".year T", ".weekday T", ".second T", ".as_seconds U",
    ".as_days U", ".as_millis U", ".to_iso U",
    // The release, the run.
    "release", "mode", "lock sp",
    // Databases.
    "db::connect Q", ".query Bq", ".query Bqa", ".exec Bq", ".exec Bqa", ".scalar Bq",
    ".scalar Bqa", ".row Bq", ".exec_many Bqa", ".each Bqp", ".transaction Bp",
    ".statement_timeout Bi",
];

#[rustfmt::skip]
const BUILTIN: &[&str] = &[
    ".len s", ".pad sis", ".sub_string sii", ".crop si", ".split ss", ".split si", ".replace sss",
    ".trim s", ".to_upper s", ".index_of ss", ".index_of ssi", ".contains ss", ".chars s",
    ".to_chars s", ".get si", ".truncate si", ".bytes s", ".to_blob s", ".starts_with ss",
    ".len a", ".push ax", ".pad aix", ".insert aix", ".extract aii", ".splice aiia", ".get ai",
    ".remove ai", ".chop ai", ".truncate ai", ".reverse a", ".sort a", ".dedup a", ".filter ap",
    ".map ap", ".reduce ap", ".index_of ax", ".contains ax", ".drain aii", ".retain aii",
    ".split ai", ".zip aap", ".all ap", ".some ap", ".keys m", ".values m", ".len m", ".get ms",
    ".remove ms", ".mixin mm", ".fill_with mm", ".contains ms", ".len b", ".push bi", ".pad bii",
    ".parse_le_int bii", ".parse_be_float bii", ".write_le biii", ".write_utf8 biis",
    ".as_string b", ".extract bii", ".get bi", ".abs n", ".sqrt n", ".floor n", ".to_int n",
    ".to_float n", ".to_string x", ".to_debug x", "blob i", "blob ii", "range ii", "range iii",
    "parse_int s", "parse_int si", "parse_float s", "max nn", "min nn", "type_of x", "print x",
    "debug x", "timestamp", "take x", "Fn s",
];

/// Small numbers, and numbers past the limits; none just below a limit, where a run would only
/// spend seconds and gigabytes on what it was asked for.
#[rustfmt::skip]
const INTS: &[&str] = &[
    "0", "1", "2", "-1", "7", "255", "256", "1000", "65536", "4294967296", "100000000000",
    "9223372036854775807", "(-9223372036854775807 - 1)", "2147483649", "16777217", "31536001",
    "-100000000000",
];

#[rustfmt::skip]
const FLOATS: &[&str] = &[
    "0.0", "-0.0", "0.5", "1.5", "-1.5", "1e20", "1e-300", "1e308", "(0.0 / 0.0)", "(1.0 / 0.0)",
    "(-1.0 / 0.0)", "9.3e18", "31536000.5", "2.5e9",
];

#[rustfmt::skip]
const STRINGS: &[&str] = &[
    "\"\"", "\"x\"", "\"hello world\"", "\"é💥\"", "\"a\\nb\"", "\"\\t\"", "\"\\x00\"", "\"$HOME\"",
    "\"--x\"", "\"-e\"", "\"%00%zz\"", "\"{\"", "\"[1, 2\"", "\"null\"", "\"1e999\"",
    "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]\"",
    "\"{\\\"a\\\": [1, 2.5, null, true, {\\\"b\\\": \\\"c\\\"}]}\"", "\"18446744073709551616\"",
    "\"\\\"\\\\ud800\\\"\"", "\"postgres://u:p%40ss@h:5432/db?sslmode=off\"", "\"x://[::1\"",
    "\"x://h:99999/\"", "\"://\"", "\"a://@\"", "\"/\"", "\".\"", "\"..\"", "\"/dev/null\"",
    "\"/proc/self/status\"", "\"nonexistent\"", "\"out.txt\"", "\"dir/sub/x\"", "\"*\"",
    "\"**/*.rhai\"", "\"[\"", "\"scripts/*\"", "\"DATABASE_URL\"", "\"TOKEN\"", "\"A=B\"", "\"=\"",
    "\"web\"", "\"worker\"", "\"std/db\"", "\"1 + 1\"", "\"const M = #{a: 1}; M.a = 2;\"",
    "\"fn f(n) { f(n) } f(1)\"",
    // Patterns, regex flags, times, zones, formats, durations.
    "\"a+\"", "\"(\"", "\"(?P<n>\\\\w+)\"", "\"a{1000}{1000}\"", "\"i\"", "\"xms\"", "\"q\"",
    "\"2024-02-29T12:00:00Z\"", "\"2024-02-30\"", "\"9999-12-31T23:59:59+14:00\"", "\"UTC\"",
    "\"Europe/Paris\"", "\"Nowhere/Else\"", "\"%Y-%m-%d %H:%M:%S %Z\"", "\"%Q\"", "\"%\"",
    "\"1h 30m\"", "\"P1DT2H\"", "\"-5s\"", "\"99999999999999h\"",
    // Documents: CSV, TOML, YAML.
    "\"a,b\\n1,2\\n\"", "\"a,\\\"b\\n\"", "\"a = 1\\n[t]\\nd = 1979-05-27T07:32:00Z\\n\"",
    "\"a = \"", "\"[[x]]\\ny = [1, 'z']\\n\"", "\"a: [1, 2]\\nb: {c: ~}\\n\"", "\"- &a [*a]\"",
    "\"!!binary aGk=\"", "\"? [a]\\n: b\\n\"",
];

/// Patterns: strings, and regexes with flags.
#[rustfmt::skip]
const PATTERNS: &[&str] = &[
    "\"o\"", "\"^$\"", "\"(\"", "\"\\\\d+\"", "\"(a*)*b\"", "\"a{1000}{1000}\"", "\"\"", "\"é|💥\"",
    "\"(?P<word>\\\\w+)\"", "regex(\"L+\", \"i\")", "regex(\"^w\", \"m\")",
];

/// Databases: `SQLite` in memory or in a file inside the app, servers on a port nothing listens
/// on. Never an absolute `SQLite` path.
#[rustfmt::skip]
const DATABASES: &[&str] = &[
    "\"sqlite://\"", "\"sqlite3::memory:\"", "\"sqlite:///app.db\"", "\"sqlite3:app.db\"",
    "\"sqlite3:nodir/app.db\"", "\"postgres://app@127.0.0.1:1/app\"",
    "\"mysql://app@127.0.0.1:1/app\"", "\"sqlite:\"", "\"nonsense\"",
];

/// SQL statements: none reaches outside the database (no `ATTACH`, `VACUUM INTO`, extensions).
#[rustfmt::skip]
const SQL: &[&str] = &[
    "\"select 1\"", "\"select ?\"", "\"select $1, $2\"", "\"create table t (a, b)\"",
    "\"insert into t values (1, 'x')\"", "\"insert into t values (?, ?)\"", "\"insert into t values ($1, $2)\"", "\"select * from t\"",
    "\"drop table t\"", "\"\"", "\"select\"", "\"select 1; select 2\"", "\"begin\"", "\"commit\"",
    "\"select 1 / 0, 9223372036854775807 + 1, x'ff', 'é', null, 1e308 * 10\"",
    "\"with recursive c(x) as (select 1 union all select x + 1 from c) select x from c limit 1000\"",
    "\"select randomblob(1000)\"",
];

/// Paths inside the run's app, relative and without `..`: the only paths a function that
/// writes gets. Not the files the fuzzer reads back (`.fuzz-stdout`, `.fuzz-stderr`).
#[rustfmt::skip]
const INSIDE: &[&str] = &[
    "\"out.txt\"", "\"x\"", "\"new\"", "\"dir/sub/x\"", "\"scripts\"", "\"scripts/lib\"",
    "\"scripts/new.rhai\"", "\"scripts/hello.rhai\"", "\".env\"", "\"Procfile\"",
    "\"adminsh.toml\"", "\".adminsh/state/x\"", "\"é💥 x.txt\"", "\"*\"", "\"\"", "\".\"",
];

/// The host functions that change files, with how many of their first arguments are paths
/// (each from `INSIDE`) and how many arguments they take.
const WRITERS: &[(&str, usize, usize)] = &[
    ("write_file", 1, 2),
    ("append_file", 1, 2),
    ("mkdir", 1, 1),
    ("remove", 1, 1),
    ("rename", 2, 2),
    ("copy", 2, 2),
];

/// Whether a function spec writes, runs the shell or uses a database.
fn writes(name: &str, kinds: &str) -> bool {
    kinds.contains(['w', 'h', 'q', 'Q', 'B']) || WRITERS.iter().any(|(writer, ..)| *writer == name)
}

/// Programs that change nothing, whatever their arguments (no `sh`, no `env`: they run what
/// they are given).
#[rustfmt::skip]
const PROGRAMS: &[&str] = &[
    "\"true\"", "\"false\"", "\"echo\"", "\"printf\"", "\"cat\"", "\"nonexistent-program\"",
    "\"\"",
];

/// Shell scripts; none writes a file.
#[rustfmt::skip]
const SHELL: &[&str] = &[
    "\"exit 3\"", "\"echo out; echo err >&2\"", "\"printf '\\\\377\\\\376'\"", "\"kill -9 $$\"",
    "\"yes | head -n 100\"", "\"sleep 0.05\"", "\"exit 300\"", "\"printf 'a\\\\nb\\\\n\\\\n'\"",
    "\"cat\"", "\"echo $TOKEN\"",
];

impl<'r> Program<'r> {
    pub(super) fn new(rng: &'r mut Rng) -> Self {
        Program {
            rng,
            vars: Vec::new(),
            depth: 0,
            writes: true,
        }
    }

    /// A generator of programs to be mangled: no function that writes, no shell.
    pub(super) fn to_mangle(rng: &'r mut Rng) -> Self {
        Program {
            writes: false,
            ..Program::new(rng)
        }
    }

    pub(super) fn generate(mut self) -> String {
        let mut out = String::new();
        for _ in 0..=self.rng.below(6) {
            out.push_str(&self.statement(true));
            out.push('\n');
        }
        // The last value is what -e prints.
        if self.rng.chance(50) {
            out.push_str(&self.expr());
        }
        out
    }

    /// A statement; `top` at the top level, where functions may be defined.
    fn statement(&mut self, top: bool) -> String {
        match self.rng.below(14) {
            0..=2 => {
                let value = self.expr();
                let name = format!("v{}", self.vars.len());
                let keyword = if self.rng.chance(30) { "const" } else { "let" };
                self.vars.push(name.clone());
                format!("{keyword} {name} = {value};")
            }
            3 if !self.vars.is_empty() => {
                // Assignments, into constants too.
                let name = self.vars[self.rng.below(self.vars.len())].clone();
                let target = match self.rng.below(4) {
                    0 => name,
                    1 => format!("{name}.a"),
                    2 => format!("{name}[0]"),
                    _ => format!("{name}[\"a\"]"),
                };
                let op = self.rng.pick(&["=", "+=", "-=", "*=", "<<=", "/="]);
                let value = self.expr();
                format!("{target} {op} {value};")
            }
            4 => {
                let body = self.block();
                format!("try {{ {body} }} catch (e) {{ print(e); }}")
            }
            5 if top => {
                // A function sees only its parameter.
                let outer = std::mem::replace(&mut self.vars, vec!["x".into()]);
                let body = self.block();
                self.vars = outer;
                let name = format!("f{}", self.rng.below(1000));
                format!("fn {name}(x) {{ {body} x }}\n{name}({});", self.expr())
            }
            6 => {
                let n = self.rng.pick(&["2", "3", "10"]);
                let body = self.block();
                format!("for i in 0..{n} {{ {body} }}")
            }
            7 => {
                // Deeply nested values, built cheaply, then used.
                // (Maps are slow to build in a debug build: they nest less.)
                let (wrap, n) = *self.rng.pick(&[
                    &("[take(d)]", 3000),
                    &("#{d: take(d)}", 500),
                    &("[take(d), 1]", 1000),
                ]);
                let name = format!("v{}", self.vars.len());
                self.vars.push(name.clone());
                format!("let {name} = {{ let d = []; for i in 0..{n} {{ d = {wrap}; }} d }};")
            }
            8 if top => {
                let module = self
                    .rng
                    .pick(&["lib/util", "std/db", "nowhere", "/etc/passwd", ""]);
                format!("import \"{module}\" as m;\nm::twice({});", self.value('x'))
            }
            9 => {
                let on = self.expr();
                let condition = self.value('x');
                format!(
                    "switch {on} {{ 1 => 1, \"x\" => 2, 2 if {condition} == 1 => 4, 0..10 => 3, _ => () }};"
                )
            }
            _ => format!("{};", self.expr()),
        }
    }

    /// A statement in a block: what it defines is gone after it.
    fn block(&mut self) -> String {
        let defined = self.vars.len();
        let body = self.statement(false);
        self.vars.truncate(defined);
        body
    }

    fn expr(&mut self) -> String {
        self.depth += 1;
        let expr = if self.depth > 4 {
            self.value('x')
        } else {
            match self.rng.below(11) {
                0..=3 => self.call(HOST),
                4..=6 => self.call(BUILTIN),
                7 => {
                    let op = self.rng.pick(&[
                        "+", "-", "*", "/", "%", "**", "<<", ">>", "&", "|", "^", "==", "<", "??",
                        "in",
                    ]);
                    format!("({} {op} {})", self.expr(), self.expr())
                }
                8 => format!("`{}${{{}}}`", self.rng.pick(&["", "x=", "é"]), self.expr()),
                9 => {
                    // Indexing, slicing and property access with odd indexes.
                    let on = self.expr();
                    let (i, j) = (self.value('i'), self.value('i'));
                    match self.rng.below(5) {
                        0 => format!("{on}[{i}]"),
                        1 => format!("{on}[{i}..{j}]"),
                        2 => format!("{on}[{i}..]"),
                        3 => format!("{on}?.a"),
                        _ => format!("{on}.a"),
                    }
                }
                _ => self.value('x'),
            }
        };
        self.depth -= 1;
        expr
    }

    fn call(&mut self, table: &[&str]) -> String {
        let (name, kinds) = loop {
            let spec = table[self.rng.below(table.len())];
            let (name, kinds) = spec.split_once(' ').unwrap_or((spec, ""));
            if self.writes || !writes(name, kinds) {
                break (name, kinds);
            }
        };
        let args: Vec<String> = kinds
            .chars()
            .map(|kind| {
                // Now and then, a value of the wrong kind; never for a path a function writes
                // to, or the shell's script.
                let kind = if !"dwhqQB".contains(kind) && self.rng.chance(10) {
                    'x'
                } else {
                    kind
                };
                self.value(kind)
            })
            .collect();
        match name.strip_prefix('.') {
            Some(method) if !args.is_empty() => {
                format!("{}.{method}({})", args[0], args[1..].join(", "))
            }
            _ => format!("{name}({})", args.join(", ")),
        }
    }

    fn value(&mut self, kind: char) -> String {
        let kind = if kind == 'x' {
            *self.rng.pick(&[
                &'s', &'i', &'f', &'a', &'m', &'b', &'p', &'C', &'v', &'u', &'T', &'U', &'r',
            ])
        } else {
            kind
        };
        match kind {
            's' => self.rng.pick(STRINGS).to_owned(),
            'w' => self.rng.pick(INSIDE).to_owned(),
            'q' => self.rng.pick(SQL).to_owned(),
            'Q' => self.rng.pick(DATABASES).to_owned(),
            'B' if self.writes => format!("db::connect({})", self.rng.pick(DATABASES)),
            'r' => self.rng.pick(PATTERNS).to_owned(),
            'l' => self.rng.pick(&["true", "false"]).to_owned(),
            // Times and durations nest a little: sums and differences of them.
            'T' | 'U' if self.depth > 6 => {
                if kind == 'T' { "now()" } else { "seconds(1)" }.to_owned()
            }
            'T' => match self.rng.below(5) {
                0 => "now()".into(),
                1 => "now_local()".into(),
                2 => format!("from_unix({})", self.value('i')),
                3 => format!("parse_time({})", self.value('s')),
                _ => {
                    self.depth += 1;
                    let sum = format!("({} + {})", self.value('T'), self.value('U'));
                    self.depth -= 1;
                    sum
                }
            },
            'U' => match self.rng.below(5) {
                0 => format!("seconds({})", self.value('n')),
                1 => format!("days({})", self.value('i')),
                2 => format!("duration({})", self.value('s')),
                3 => {
                    self.depth += 1;
                    let difference = format!("({} - {})", self.value('T'), self.value('T'));
                    self.depth -= 1;
                    difference
                }
                _ => {
                    self.depth += 1;
                    let product = format!("({} * {})", self.value('U'), self.value('i'));
                    self.depth -= 1;
                    product
                }
            },
            'h' => self.rng.pick(SHELL).to_owned(),
            'i' => self.rng.pick(INTS).to_owned(),
            'f' => self.rng.pick(FLOATS).to_owned(),
            'n' => {
                if self.rng.chance(50) {
                    self.value('i')
                } else {
                    self.value('f')
                }
            }
            'a' => match self.rng.below(4) {
                0 => "[]".into(),
                1 => format!("[{}, {}]", self.value('i'), self.value('s')),
                2 => "[[1, [2, [3]]], #{a: [4]}]".into(),
                _ => format!("[{}]", self.value('x')),
            },
            'm' => match self.rng.below(3) {
                0 => "#{}".into(),
                1 => format!("#{{a: {}, b: {}}}", self.value('i'), self.value('s')),
                _ => "#{a: #{b: #{c: [1, 2]}}, \"odd key\": ()}".into(),
            },
            'b' => self
                .rng
                .pick(&["blob()", "blob(3)", "blob(4, 255)", "\"é\".to_blob()"])
                .to_owned(),
            // A closure over a variable (which makes it shared), now and then.
            'p' if !self.vars.is_empty() && self.rng.chance(20) => {
                let var = self.vars[self.rng.below(self.vars.len())].clone();
                format!("|y| {var}")
            }
            'p' => self
                .rng
                .pick(&[
                    "Fn(\"print\").curry(1)",
                    "Fn(\"to_json\").curry([1, 2])",
                    "|x| x",
                    "|x, y| x",
                    "|x| false",
                    "|x| fail(x)",
                    "|| 1",
                    "Fn(\"print\")",
                    "Fn(\"nonexistent\")",
                    "|x| x.len()",
                ])
                .to_owned(),
            'C' => match self.rng.below(4) {
                2 if self.writes => format!("sh({})", self.rng.pick(SHELL)),
                0 | 2 => format!("cmd({})", self.rng.pick(PROGRAMS)),
                1 => format!(
                    "cmd({}, [{}, {}])",
                    self.rng.pick(PROGRAMS),
                    self.value('s'),
                    self.value('i')
                ),
                _ => format!(
                    "cmd(\"printf\", [\"%s\\n\", {}]).timeout({})",
                    self.value('s'),
                    self.rng.pick(&["5", "0.5", "1e-9"])
                ),
            },
            'P' => format!("progress({})", self.value('i')),
            // Durations: short, or far out of range (a long sleep is only slow).
            'd' => self
                .rng
                .pick(&[
                    "0",
                    "0.01",
                    "-1",
                    "1e20",
                    "9223372036854775807",
                    "(0.0 / 0.0)",
                    "31536001",
                    "(1.0 / 0.0)",
                ])
                .to_owned(),
            'v' if !self.vars.is_empty() => self.vars[self.rng.below(self.vars.len())].clone(),
            'u' => "()".into(),
            _ => self
                .rng
                .pick(&["true", "'c'", "()", "ARGS", "PARAMS"])
                .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unquoted(value: &str) -> &str {
        value.strip_prefix('"').unwrap().strip_suffix('"').unwrap()
    }

    /// A function that writes gets paths from `INSIDE` only, and those stay inside the app.
    #[test]
    fn writing_functions_get_only_paths_inside_the_app() {
        for path in INSIDE.iter().copied().map(unquoted) {
            assert!(
                !path.starts_with(['/', '~']) && !path.contains('$') && !path.contains('\\'),
                "{path:?} may leave the app"
            );
            assert!(
                !path.split('/').any(|part| part == ".."),
                "{path:?} may leave the app"
            );
        }
        // Every call of a writer's name with a writer's number of arguments (a method on
        // another type would have one argument more or less).
        for spec in HOST.iter().chain(BUILTIN) {
            let (name, kinds) = spec.split_once(' ').unwrap_or((spec, ""));
            let name = name.trim_start_matches('.');
            for (writer, paths, arity) in WRITERS {
                if name == *writer && kinds.len() == *arity {
                    assert!(
                        kinds.len() >= *paths && kinds[..*paths].chars().all(|k| k == 'w'),
                        "{spec:?}: a function that writes must take its paths from INSIDE (`w`)"
                    );
                }
            }
        }
    }

    /// `SQLite` files are inside the app; no statement reaches outside its database.
    #[test]
    fn databases_stay_inside_the_app() {
        for url in DATABASES.iter().copied().map(unquoted) {
            let absolute = url.starts_with("sqlite:////")
                || url
                    .strip_prefix("sqlite3:")
                    .is_some_and(|rest| rest.starts_with('/'));
            assert!(!absolute, "{url} is outside the app");
        }
        for sql in SQL {
            let sql = sql.to_lowercase();
            for word in [
                "attach",
                "vacuum",
                "load_extension",
                "writefile",
                "readfile",
                "pragma",
            ] {
                assert!(!sql.contains(word), "{sql} may reach outside its database");
            }
        }
    }

    /// No string a program may hold names a function that writes (`Fn(...)`, `eval(...)`),
    /// and no shell script redirects into a file.
    #[test]
    fn values_call_no_writing_function_and_the_shell_writes_nothing() {
        let values = [STRINGS, INSIDE, PROGRAMS, SHELL, PATTERNS, DATABASES, SQL];
        for value in values.iter().flat_map(|table| table.iter()) {
            for (writer, ..) in WRITERS {
                assert!(!value.contains(writer), "{value} names {writer}");
            }
        }
        for script in SHELL {
            let words: Vec<&str> = script
                .trim_matches('"')
                .split(|c: char| !c.is_ascii_alphanumeric())
                .collect();
            for program in [
                "rm", "mv", "cp", "dd", "tee", "ln", "chmod", "touch", "mkdir",
            ] {
                assert!(!words.contains(&program), "{script} runs {program}");
            }
            assert!(
                !script.replace(">&2", "").contains('>'),
                "{script} redirects into a file"
            );
        }
    }
}
