//! Shipping adminsh: the .deb that `adminsh deb` builds, installed with dpkg into a temp root;
//! the man page; the Dockerfiles of `examples/docker/`, their images' roots made as far as this
//! machine can (no container engine: the files each `COPY` puts, device nodes as a container
//! has, nothing else, entered with `chroot` and an environment of only the image's); and the
//! CI examples of `examples/ci/`, read as YAML and their steps run in a temp app.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::tools::require;
use crate::support::{BIN, Test, text};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A temp dir on the same file system as the binary, so that it can be hard-linked (a debug
/// build is large) rather than copied.
fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ship-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

#[track_caller]
fn link_or_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).unwrap();
    }
}

#[track_caller]
fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {:?}\n=== stdout\n{}=== stderr\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[test]
fn the_man_page_is_the_command_lines_own() {
    let page = Test::new().args(&["--man-page"]).any_stdout().run().stdout;
    assert!(page.starts_with(".ie \\n(.g .ds Aq \\(aq\n"), "{page}");
    for part in [
        ".TH adminsh 1",
        ".SH NAME\nadminsh \\- Run one\\-off admin processes",
        ".SH SYNOPSIS\n\\fBadminsh\\fR [OPTIONS] [SCRIPT [ARGS]...]",
        "\\fB\\-C\\fR, \\fB\\-\\-dir\\fR \\fI<DIR>\\fR",
        ".SH \"EXIT STATUS\"\n0 success, 1 script or command failure, 2 usage error",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(part), "no {part:?} in\n{page}");
    }
    // Hidden flags stay out of it, as they stay out of --help.
    assert!(!page.contains("complete\\-words") && !page.contains("man\\-page"));
    Test::new()
        .args(&["--man-page", "fix"])
        .status(2)
        .stderr("adminsh: --man-page takes no script, but `fix` was given\n")
        .run();
}

/// `adminsh deb` as a maintainer runs it, on the binary these tests run (put where a release
/// build would be, under a `CARGO_TARGET_DIR` of the test's own), then the package installed
/// with a real `dpkg -i` into a temp root.
#[test]
fn the_deb_installs_the_binary_its_man_page_and_completions() {
    require!(CargoDeb);
    let dir = temp_dir();
    let host = Path::new(BIN).parent().unwrap().parent().unwrap();
    let release = dir.path().join("target").join(host.file_name().unwrap());
    link_or_copy(Path::new(BIN), &release.join("release/adminsh"));
    let out = dir.path().join("out");
    let mut build = Test::bare()
        .arg("-C")
        .arg(repo())
        .args(&["deb", "--no-build", "--fast", "--output"])
        .arg(&out)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .env("ADMINSH_AUDIT_LOG", dir.path().join("audit.jsonl"))
        // cargo through rustup, as the maintainer's shell has it (the test's HOME is a temp dir).
        .env("HOME", std::env::var_os("HOME").unwrap_or_default());
    for key in ["RUSTUP_TOOLCHAIN", "RUSTUP_HOME", "CARGO_HOME"] {
        if let Some(value) = std::env::var_os(key) {
            build = build.env(key, value);
        }
    }
    let built = build.any_stderr().any_stdout().run();
    let made: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [deb] = made.as_slice() else {
        panic!("not one .deb: {made:?}")
    };
    let name = deb.file_name().unwrap().to_string_lossy();
    let version = concat!("adminsh_", env!("CARGO_PKG_VERSION"), "-1_");
    assert!(
        name.starts_with(version) && name.ends_with(".deb"),
        "{name}"
    );
    assert_eq!(built.stdout, format!("{}\n", deb.display()));

    let root = dir.path().join("root");
    for state in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
    ] {
        std::fs::create_dir_all(root.join(state)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    let installed = Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .args([
            "--log=/dev/null",
            "--force-not-root",
            "--force-script-chrootless",
            "-i",
        ])
        .arg(deb)
        .output()
        .unwrap();
    succeeded(&installed, "dpkg -i");

    let version = Command::new(root.join("usr/bin/adminsh"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        succeeded(&version, "adminsh --version"),
        format!("adminsh {}\n", env!("CARGO_PKG_VERSION"))
    );

    let man = root.join("usr/share/man/man1/adminsh.1.gz");
    let page = Command::new("zcat").arg(&man).output().unwrap();
    assert_eq!(
        succeeded(&page, "zcat"),
        Test::new().args(&["--man-page"]).any_stdout().run().stdout
    );
    let shown = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(&man)
        .env("MANWIDTH", "80")
        .output();
    if let Ok(shown) = shown {
        let shown = succeeded(&shown, "man -l");
        // man justifies the text: compared with its spaces collapsed.
        let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("NAME adminsh - Run one-off admin processes"),
            "{shown}"
        );
    }

    for (shell, path) in [
        ("bash", "usr/share/bash-completion/completions/adminsh"),
        ("zsh", "usr/share/zsh/vendor-completions/_adminsh"),
        ("fish", "usr/share/fish/vendor_completions.d/adminsh.fish"),
    ] {
        let file = std::fs::read_to_string(root.join(path)).unwrap();
        let printed = Test::new()
            .args(&["--completions", shell])
            .any_stdout()
            .run();
        assert_eq!(file, printed.stdout, "{path}");
    }
    // bash-completion loads the file by the command's name when Tab is first pressed: it must
    // register the completion for `adminsh`.
    let registered = Command::new("bash")
        .args([
            "--norc",
            "-c",
            "source \"$1\" && complete -p adminsh",
            "bash",
        ])
        .arg(root.join("usr/share/bash-completion/completions/adminsh"))
        .output()
        .unwrap();
    assert_eq!(
        succeeded(&registered, "bash"),
        "complete -o default -F _adminsh adminsh\n"
    );
}

/// What an image's last stage says: the files its `COPY`s put (source in the build context,
/// destination in the image), its `WORKDIR`, its `ENV`, its `ENTRYPOINT` and `CMD`.
#[derive(Debug, Default)]
struct Image {
    copies: Vec<(String, String)>,
    workdir: String,
    env: BTreeMap<String, String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
}

/// The instructions this test understands; `RUN` (a step of the base image's tools, which the
/// root made here does not have) is left out, and any other instruction fails the test.
fn image(dockerfile: &str) -> Image {
    let mut image = Image {
        workdir: "/".into(),
        ..Image::default()
    };
    let exec_form = |rest: &str| -> Vec<String> {
        let inner = rest
            .trim()
            .strip_prefix('[')
            .unwrap()
            .strip_suffix(']')
            .unwrap();
        inner
            .split(',')
            .map(|w| w.trim().trim_matches('"').to_owned())
            .collect()
    };
    for line in dockerfile.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (instruction, rest) = line.split_once(' ').unwrap();
        match instruction {
            "FROM" => {
                image = Image {
                    workdir: "/".into(),
                    ..Image::default()
                }
            }
            "RUN" => {}
            "WORKDIR" => image.workdir = in_image(&image.workdir, rest),
            "COPY" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let (sources, dest) = words.split_at(words.len() - 1);
                for source in sources {
                    image
                        .copies
                        .push(((*source).into(), in_image(&image.workdir, dest[0])));
                }
            }
            "ENV" => {
                let (key, value) = rest.split_once('=').unwrap();
                image.env.insert(key.into(), value.into());
            }
            "ENTRYPOINT" => image.entrypoint = exec_form(rest),
            "CMD" => image.cmd = exec_form(rest),
            other => panic!("the test does not know {other}: {line}"),
        }
    }
    image
}

/// A path in the image, relative ones from the working directory; a trailing `/` kept (it says
/// "into this directory").
fn in_image(workdir: &str, path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{}/{path}", workdir.trim_end_matches('/'))
    };
    let dir = full.ends_with('/') || full.ends_with("/.");
    let clean = full.trim_end_matches("/.").trim_end_matches('/');
    if dir {
        format!("{clean}/")
    } else {
        clean.to_owned()
    }
}

/// Makes the image's root: each `COPY` from `context` as Docker does (a directory's contents,
/// a file into a directory or as a file), and the device nodes a container's `/dev` has.
fn root_of(image: &Image, context: &Path, root: &Path) {
    for (source, dest) in &image.copies {
        let from = context.join(source.trim_start_matches("./"));
        let to = root.join(dest.trim_start_matches('/'));
        if from.is_dir() {
            copy_tree(&from, &to);
        } else if dest.ends_with('/') {
            link_or_copy(&from, &to.join(from.file_name().unwrap()));
        } else {
            link_or_copy(&from, &to);
        }
    }
    std::fs::create_dir_all(root.join(image.workdir.trim_start_matches('/'))).unwrap();
    std::fs::create_dir_all(root.join("dev")).unwrap();
    for (name, minor) in [("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)] {
        let path = CString::new(
            root.join("dev")
                .join(name)
                .into_os_string()
                .into_encoded_bytes(),
        )
        .unwrap();
        // SAFETY: `path` is a valid C string; mknod only reads it.
        let made = unsafe {
            libc::mknod(
                path.as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(1, minor),
            )
        };
        assert_eq!(
            made,
            0,
            "mknod /dev/{name}: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            link_or_copy(&entry.path(), &target);
        }
    }
}

/// Runs `argv` inside `root` as a container of `image` would: `chroot` into it, in its
/// `WORKDIR`, with only the image's environment (Docker's default `PATH` and its `ENV`).
fn run_in(root: &Path, image: &Image, argv: &[String]) -> Output {
    let root = CString::new(root.as_os_str().as_encoded_bytes()).unwrap();
    let workdir = CString::new(image.workdir.as_str()).unwrap();
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .envs(&image.env)
        .stdin(Stdio::null());
    // SAFETY: between fork and exec only chroot(2) and chdir(2) run, both async-signal-safe,
    // on C strings made before the fork.
    unsafe {
        command.pre_exec(move || {
            if libc::chroot(root.as_ptr()) != 0 || libc::chdir(workdir.as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().unwrap()
}

/// The build context: the app (its manifest, a script, what the Python image installs) and
/// the static binary beside it, as the Dockerfiles' comments say to put it.
fn context(dir: &Path) -> PathBuf {
    let context = dir.join("context");
    let files = [
        ("adminsh.toml", "name = \"shop\"\n"),
        ("requirements.txt", ""),
        ("shop/__main__.py", "print('serving')\n"),
        (
            "scripts/hello.rhai",
            "//! Say hello.\n//! @param name: string = world  Who to greet\n\
             print(`hello ${PARAMS.name} from ${release().name}, stage ${release().stage}`);\n\
             write_file(\"greeted.txt\", PARAMS.name);\n",
        ),
    ];
    for (path, text) in files {
        std::fs::create_dir_all(context.join(path).parent().unwrap()).unwrap();
        std::fs::write(context.join(path), text).unwrap();
    }
    link_or_copy(Path::new(BIN), &context.join("adminsh"));
    context
}

#[test]
fn the_docker_images_run_adminsh_with_no_etc_and_only_their_environment() {
    require!(Root);
    for (file, stage) in [
        ("Dockerfile", "development"),
        ("Dockerfile.scratch", "production"),
    ] {
        let dockerfile =
            std::fs::read_to_string(repo().join("examples/docker").join(file)).unwrap();
        let image = image(&dockerfile);
        let adminsh = image
            .copies
            .iter()
            .find(|(source, _)| source == "adminsh")
            .map_or_else(
                || panic!("{file} copies no adminsh"),
                |(_, dest)| dest.clone(),
            );
        assert_eq!(
            adminsh, "/usr/local/bin/adminsh",
            "{file}: on the image's PATH"
        );
        let dir = temp_dir();
        let root = dir.path().join("root");
        root_of(&image, &context(dir.path()), &root);
        assert!(!root.join("etc").exists(), "{file} has an /etc here");
        let run = |args: &[&str]| -> String {
            let mut argv = vec![adminsh.clone()];
            argv.extend(args.iter().map(|a| (*a).to_owned()));
            succeeded(&run_in(&root, &image, &argv), &format!("{file}: {argv:?}"))
        };
        assert_eq!(run(&["-e", "print(1+1)"]), "2\n", "{file}");
        assert_eq!(
            run(&["hello", "--name", "container"]),
            format!("hello container from shop, stage {stage}\n"),
            "{file}"
        );
        let app = root.join(image.workdir.trim_start_matches('/'));
        assert_eq!(
            std::fs::read_to_string(app.join("greeted.txt")).unwrap(),
            "container"
        );
        let audit = std::fs::read_to_string(app.join(".adminsh/audit.jsonl")).unwrap();
        assert!(audit.contains("\"user\":\"uid 0\""), "{file}: {audit}");
        let report = run(&["--json", "hello"]);
        assert!(report.starts_with("{\"exit_code\":0,"), "{file}: {report}");
        if !image.entrypoint.is_empty() {
            // What `docker run IMAGE` runs: the entrypoint with the default command.
            let mut argv = image.entrypoint.clone();
            argv.extend(image.cmd.iter().cloned());
            let listed = succeeded(&run_in(&root, &image, &argv), &format!("{file}: {argv:?}"));
            assert_eq!(
                listed,
                "Scripts of shop in /app/scripts:\n    hello  [--name <string>]  # Say hello.\n",
                "{file}"
            );
        }
    }
}

/// Every `run:` of a GitHub Actions workflow, or every job's `script:` of a GitLab CI file
/// (its lines joined, as the runner runs them in one shell), and each `adminsh` command line in
/// it as words (shell quoting undone, the redirections left out), read by `PyYAML` and `shlex`.
const STEPS: &str = r#"
import shlex, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
if "jobs" in doc:
    blocks = [s["run"] for job in doc["jobs"].values() for s in job["steps"] if "run" in s]
else:
    blocks = ["\n".join(job["script"]) for job in doc.values() if isinstance(job, dict) and "script" in job]
for block in blocks:
    commands = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True) if "adminsh " in line + " " else []
        if words[:1] == ["adminsh"]:
            commands.append("\x1f".join(w for w in words if not w.startswith(">")))
    sys.stdout.write(block + "\x1d" + "\x1e".join(commands) + "\x1c")
"#;

struct Step {
    block: String,
    commands: Vec<Vec<String>>,
}

fn steps(file: &Path) -> Vec<Step> {
    let output = Command::new("/usr/bin/python3")
        .args(["-c", STEPS])
        .arg(file)
        .output()
        .unwrap();
    let out = succeeded(&output, &format!("reading {}", file.display()));
    out.split_terminator('\x1c')
        .map(|step| {
            let (block, commands) = step.split_once('\x1d').unwrap();
            Step {
                block: block.to_owned(),
                commands: commands
                    .split_terminator('\x1e')
                    .map(|c| c.split('\x1f').map(str::to_owned).collect())
                    .collect(),
            }
        })
        .collect()
}

/// adminsh's own flags in a command line (the words before the script's name), each checked
/// against `--help`, with the value the flags that take one take.
fn check_flags(words: &[String], help: &str, file: &str) {
    let mut words = words[1..].iter();
    while let Some(word) = words.next() {
        if !word.starts_with('-') {
            break;
        }
        let flag = word.split('=').next().unwrap();
        let line = help
            .lines()
            .find(|l| l.trim_start().split([',', ' ']).any(|w| w == flag))
            .unwrap_or_else(|| panic!("{file}: adminsh has no {flag}"));
        if line.contains(&format!("{flag} <")) && !word.contains('=') {
            words.next();
        }
    }
}

/// The migrate script the examples run, ending as `OUTCOME` says: `fail` fails it, a number
/// is its `exit(n)`.
const MIGRATE: &str = r#"//! Migrate the database.
//! @no-params
let outcome = env("OUTCOME", "0");
if outcome == "fail" {
    fail("the migration broke");
}
print("migrating");
exit(parse_int(outcome));
"#;

#[test]
fn the_ci_examples_parse_and_branch_on_adminshs_exit_codes() {
    require!(PyYaml);
    let help = Test::new().args(&["--help"]).any_stdout().run().stdout;
    // (example, what each outcome of the script makes of the step: its exit code and a line it prints)
    let examples = [
        (
            "github-actions.yml",
            [
                (0, "migrated"),
                (1, "::error::migrate failed"),
                (2, "::error::migrate was called wrongly"),
                (0, "::warning::migrate: nothing to migrate"),
            ],
        ),
        (
            "gitlab-ci.yml",
            [
                (0, "migrated"),
                (1, "migrate failed"),
                (2, "migrate was called wrongly"),
                (3, "migrate: nothing to migrate"),
            ],
        ),
    ];
    for (file, outcomes) in examples {
        let steps = steps(&repo().join("examples/ci").join(file));
        let commands: Vec<&Vec<String>> = steps.iter().flat_map(|s| &s.commands).collect();
        assert!(commands.len() >= 2, "{file}: {commands:?}");
        for command in &commands {
            check_flags(command, &help, file);
        }
        // The steps that run scripts in the app, run here in a temp app, for every outcome.
        let runnable: Vec<&Step> = steps
            .iter()
            .filter(|s| {
                !s.commands.is_empty() && !s.block.contains("${{") && !s.block.contains("curl")
            })
            .collect();
        let migrate = runnable
            .iter()
            .find(|s| s.block.contains("--json"))
            .unwrap_or_else(|| panic!("{file}: no step runs adminsh --json"));
        let check = runnable
            .iter()
            .find(|s| s.commands.iter().any(|c| c.contains(&"--check".to_owned())))
            .unwrap_or_else(|| panic!("{file}: no step checks the scripts"));
        let app = Test::new().script("migrate", MIGRATE);
        assert_eq!(
            run_step(app.path(), &check.block, "0").0,
            Some(0),
            "{file}: --check"
        );
        for (outcome, (code, said)) in ["0", "fail", "missing", "3"].into_iter().zip(outcomes) {
            let app = Test::new();
            let app = if outcome == "missing" {
                app
            } else {
                app.script("migrate", MIGRATE)
            };
            let (status, out) = run_step(app.path(), &migrate.block, outcome);
            assert_eq!(status, Some(code), "{file}, {outcome}:\n{out}");
            assert!(
                out.contains(said),
                "{file}, {outcome}: no {said:?} in\n{out}"
            );
            let report = std::fs::read_to_string(app.path().join("adminsh-report.json")).unwrap();
            assert!(
                report.starts_with("{\"exit_code\":"),
                "{file}, {outcome}: {report}"
            );
            if file.starts_with("github") {
                let output = std::fs::read_to_string(app.path().join("github-output")).unwrap();
                let exit = match outcome {
                    "fail" => "1",
                    "missing" => "2",
                    n => n,
                };
                assert_eq!(output, format!("code={exit}\n"), "{file}, {outcome}");
            }
        }
    }
}

/// Runs a step's shell text as the CI runner does (`bash -eo pipefail`), in `app`, with
/// adminsh on `PATH` and the variables the examples read; its exit code and its output.
fn run_step(app: &Path, block: &str, outcome: &str) -> (Option<i32>, String) {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", block])
        .current_dir(app)
        .env_clear()
        .env("PATH", path)
        .env("HOME", app)
        .env("OUTCOME", outcome)
        .env("GITHUB_OUTPUT", app.join("github-output"))
        .env("GITHUB_SHA", "0123abc")
        .env("GITHUB_ACTOR", "ci")
        .env("CI_COMMIT_SHORT_SHA", "0123abc")
        .env("GITLAB_USER_LOGIN", "ci")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        text(&output.stdout) + &text(&output.stderr),
    )
}

/// The static binary starts in an empty root: no `/etc`, no `/dev` (a bare chroot, a sandbox
/// that gives it nothing), and no environment. Its hash seeds come from getrandom(2), not from
/// `/dev/urandom`.
#[test]
fn the_binary_runs_in_a_root_with_nothing_but_itself() {
    require!(Root);
    let root = temp_dir();
    link_or_copy(Path::new(crate::support::BIN), &root.path().join("adminsh"));
    std::fs::create_dir_all(root.path().join("app/scripts")).unwrap();
    std::fs::write(root.path().join("app/adminsh.toml"), "").unwrap();
    std::fs::write(
        root.path().join("app/scripts/sum.rhai"),
        "print(`${1 + 1} ${sha256(\"x\").len()}`);",
    )
    .unwrap();
    let image = Image {
        workdir: "/app".into(),
        ..Image::default()
    };
    for (argv, want) in [
        (vec!["/adminsh", "-e", "print(1 + 1)"], "2\n"),
        (vec!["/adminsh", "sum"], "2 64\n"),
    ] {
        let argv: Vec<String> = argv.into_iter().map(str::to_owned).collect();
        let output = run_in(root.path(), &image, &argv);
        assert_eq!(succeeded(&output, &argv.join(" ")), want);
    }
    assert!(!root.path().join("dev").exists());
}
