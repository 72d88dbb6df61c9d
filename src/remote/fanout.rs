//! `--each` and `--parallel N`: the same run on every host of an ssh target, in turn or N at a
//! time, each line of output prefixed by its host, then a summary of how each host ended.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::interrupt;

use super::argv::{self, Stdin};
use super::runner::{self, Ended, Transport};
use crate::release::{Ssh, Target};

/// Runs on every host, `parallel` at a time, and returns the exit code: 0 when every host
/// exited 0, 128 + the signal when interrupted, else 1.
pub(crate) fn run(
    name: &str,
    target: &Target,
    ssh: &Ssh,
    forwarded: &[String],
    parallel: usize,
) -> i32 {
    let hosts = &ssh.hosts;
    let results: Vec<Mutex<Option<Ended>>> = hosts.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, hosts.len()) {
            scope.spawn(|| {
                loop {
                    if interrupt::interrupted() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(host) = hosts.get(i) else {
                        break;
                    };
                    let argv = argv::ssh(target, ssh, host, forwarded, Stdin::Closed);
                    let ended =
                        runner::run(&argv, Transport::Ssh, Stdin::Closed, Some(&host.label))
                            .unwrap_or_else(|e| {
                                Ended::Unreachable(format!("cannot run `ssh`: {e}"))
                            });
                    if let Some(message) = super::failure(name, &host.to_string(), &ended) {
                        let mut pending = Vec::new();
                        let line = format!("adminsh: {message}\n");
                        crate::marked::prefix_lines(
                            &host.label,
                            line.as_bytes(),
                            &mut pending,
                            &mut std::io::stderr().lock(),
                        );
                    }
                    *results[i]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(ended);
                }
            });
        }
    });
    let ended: Vec<Option<Ended>> = results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect();
    let labels: Vec<&str> = hosts.iter().map(|h| h.label.as_str()).collect();
    crate::log::err(&summary(name, &labels, &ended));
    if let Some(signal) = interrupt::signal() {
        return crate::error::interrupted_code(signal);
    }
    i32::from(!ended.iter().all(|e| *e == Some(Ended::Ran(0))))
}

/// `adminsh: production on 2 hosts: 1 failed`, then a line per host.
pub(crate) fn summary(name: &str, labels: &[&str], ended: &[Option<Ended>]) -> String {
    let failed = ended.iter().filter(|e| **e != Some(Ended::Ran(0))).count();
    let interrupted = ended
        .iter()
        .any(|e| matches!(e, Some(Ended::Interrupted(_))));
    let verdict = if interrupted {
        "interrupted".to_owned()
    } else if failed == 0 {
        "all succeeded".to_owned()
    } else {
        format!("{failed} failed")
    };
    let count = labels.len();
    let mut text = format!(
        "adminsh: {name} on {count} host{}: {verdict}\n",
        if count == 1 { "" } else { "s" }
    );
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (label, ended) in labels.iter().zip(ended) {
        let state = match ended {
            Some(Ended::Ran(code)) => format!("exit {code}"),
            Some(Ended::Unreachable(_)) => "unreachable".to_owned(),
            Some(Ended::NotStarted(status, _)) => format!("adminsh did not start (exit {status})"),
            Some(Ended::Interrupted(_)) => "interrupted".to_owned(),
            Some(Ended::Outdated(code, _)) => format!("exit {code} (adminsh there is too old)"),
            None => "not run".to_owned(),
        };
        text.push_str(&format!("  {label:width$}  {state}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_host_and_how_it_ended() {
        let ended = [
            Some(Ended::Ran(0)),
            Some(Ended::Ran(3)),
            Some(Ended::Unreachable("refused".into())),
            Some(Ended::NotStarted(127, "not found".into())),
        ];
        assert_eq!(
            summary(
                "production",
                &["app1", "app2", "deploy@app3:22", "app4"],
                &ended
            ),
            "adminsh: production on 4 hosts: 3 failed\n\
             \x20 app1            exit 0\n\
             \x20 app2            exit 3\n\
             \x20 deploy@app3:22  unreachable\n\
             \x20 app4            adminsh did not start (exit 127)\n"
        );
        assert_eq!(
            summary("one", &["app1"], &[Some(Ended::Ran(0))]),
            "adminsh: one on 1 host: all succeeded\n  app1  exit 0\n"
        );
        assert_eq!(
            summary("p", &["a", "b"], &[Some(Ended::Interrupted(2)), None]),
            "adminsh: p on 2 hosts: interrupted\n  a  interrupted\n  b  not run\n"
        );
    }
}
