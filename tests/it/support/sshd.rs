//! A real OpenSSH server on 127.0.0.1 for the remote-target tests: its own host key, config,
//! authorized key and pid file in a temp dir, `sshd -D` on a free port, stopped when dropped.
//! `Client` is the other end: a key pair and the ssh options that keep the client away from
//! the machine's own ssh config and known hosts. As root, sshd needs `/run/sshd`; it is made.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::tools::{self, Tool};
use super::wait::wait_for_port;

pub(crate) const SSHD: &str = "/usr/sbin/sshd";

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "adminsh-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen is needed for the remote tests (openssh-client; .ci/run installs it)");
    assert!(status.success());
}

/// A port nothing listens on (for a moment).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The user the tests log in as: whoever runs them (root in CI).
pub(crate) fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The client's key and options.
pub(crate) struct Client {
    dir: tempfile::TempDir,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A new key pair; the test must have `require!(Ssh)`.
    #[track_caller]
    pub(crate) fn new() -> Client {
        tools::used(Tool::Ssh);
        let dir = tempfile::Builder::new()
            .prefix("adminsh-ssh-client-")
            .tempdir()
            .unwrap();
        keygen(&dir.path().join("id"));
        Client { dir }
    }

    pub(crate) fn identity(&self) -> PathBuf {
        self.dir.path().join("id")
    }

    fn public_key(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("id.pub")).unwrap()
    }

    /// `identity = ...` and `ssh_options = [...]` lines for a target in adminsh.toml.
    pub(crate) fn toml(&self) -> String {
        format!(
            "identity = \"{}\"\nssh_options = [\"-F\", \"/dev/null\", \"-o\", \"StrictHostKeyChecking=no\", \"-o\", \"UserKnownHostsFile=/dev/null\", \"-o\", \"IdentitiesOnly=yes\", \"-o\", \"IdentityAgent=none\"]\n",
            self.identity().display()
        )
    }

    /// Starts a server that lets this client in, with `env` set in every session; the test
    /// must have `require!(Sshd)`.
    #[track_caller]
    pub(crate) fn sshd(&self, env: &[(&str, &str)]) -> Sshd {
        Sshd::start(&self.public_key(), env)
    }
}

pub(crate) struct Sshd {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Sshd {
    #[track_caller]
    fn start(authorized_key: &str, env: &[(&str, &str)]) -> Sshd {
        tools::used(Tool::Sshd);
        // The privilege separation directory sshd insists on when it runs as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::Builder::new()
            .prefix("adminsh-sshd-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        std::fs::write(d.join("authorized_keys"), authorized_key).unwrap();
        let port = free_port();
        let mut set_env = vec![
            format!("XDG_STATE_HOME={}", d.join("state").display()),
            "LANG=C.UTF-8".to_owned(),
        ];
        set_env.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
             PidFile {d}/sshd.pid\nStrictModes no\nUsePAM no\nPermitRootLogin yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             SetEnv {}\n",
            set_env.join(" "),
            d = d.display(),
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let sshd = Sshd { port, dir, child };
        wait_for_port(port, || sshd.log());
        sshd
    }

    /// What sshd logged (its `-e` stderr), for failures.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
