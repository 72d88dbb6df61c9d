//! A target of `adminsh.toml`: where a deployed release runs and how to reach it, an ssh
//! destination (one host, or several for `--each`) or a resource for `kubectl exec`. Read
//! from `[targets.NAME]` tables and checked as they are read, so a mistake is an error naming
//! the file, line and column like every other manifest error.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// The program a target runs when it does not say: `adminsh` on the remote `PATH`.
pub(crate) const DEFAULT_PROGRAM: &str = "adminsh";

/// One `[targets.NAME]` table, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// The release root there; `None` (kubectl only) lets adminsh discover it from the
    /// container's working directory.
    pub dir: Option<String>,
    /// The adminsh binary there.
    pub program: String,
    /// The stage to run at there, unless `-s` says.
    pub stage: Option<String>,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Via {
    Ssh(Ssh),
    Kubectl(Kubectl),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ssh {
    /// Where `-t NAME` runs: the `ssh` key.
    pub destination: Host,
    /// Where `--each` runs: the `hosts` key, else the destination alone.
    pub hosts: Vec<Host>,
    pub identity: Option<String>,
    /// More ssh arguments, put before adminsh's own so they win (ssh takes an option's first
    /// value).
    pub options: Vec<String>,
}

/// One ssh host: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Host {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// As the manifest wrote it: the prefix of its lines in `--each`.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kubectl {
    /// `deploy/shop`, `pod/shop-7d9f`, a pod name.
    pub resource: String,
    pub namespace: Option<String>,
    pub container: Option<String>,
    pub context: Option<String>,
    /// `job = true`: scripts and `-e` run as a Kubernetes Job made from the Deployment's pod
    /// template (`resource` is `deploy/NAME`), not through `kubectl exec`.
    pub job: bool,
}

/// The table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    ssh: Option<String>,
    kubectl: Option<String>,
    dir: Option<String>,
    adminsh: Option<String>,
    stage: Option<String>,
    port: Option<u16>,
    identity: Option<String>,
    hosts: Option<Vec<String>>,
    ssh_options: Option<Vec<String>>,
    namespace: Option<String>,
    container: Option<String>,
    context: Option<String>,
    job: Option<bool>,
}

/// `[targets.*]`: each table read and checked, the error naming the target.
pub(crate) fn deserialize_targets<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Target>, D::Error> {
    struct Tables;
    impl<'de> serde::de::Visitor<'de> for Tables {
        type Value = BTreeMap<String, Target>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table of targets, `[targets.NAME]`")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut targets = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                let fields: Fields = map.next_value()?;
                let target = Target::check(fields)
                    .map_err(|e| serde::de::Error::custom(format!("target `{name}`: {e}")))?;
                targets.insert(name, target);
            }
            Ok(targets)
        }
    }
    d.deserialize_map(Tables)
}

impl Target {
    /// The table as written, checked: reached one way, with only that way's keys.
    fn check(mut f: Fields) -> anyhow::Result<Target> {
        let program = match f.adminsh.take() {
            Some(p) if p.trim().is_empty() => anyhow::bail!("`adminsh` is empty"),
            Some(p) => p,
            None => DEFAULT_PROGRAM.to_owned(),
        };
        if f.dir.as_deref().is_some_and(|d| d.trim().is_empty()) {
            anyhow::bail!("`dir` is empty");
        }
        let via = match (f.ssh.take(), f.kubectl.take()) {
            (Some(_), Some(_)) => {
                anyhow::bail!("it has both `ssh` and `kubectl`; a target is reached one way");
            }
            (None, None) => {
                anyhow::bail!(
                    "it says neither `ssh = \"user@host\"` nor `kubectl = \"deploy/NAME\"`: how is it reached?"
                );
            }
            (Some(ssh), None) => Via::Ssh(Ssh::check(&ssh, &mut f)?),
            (None, Some(resource)) => Via::Kubectl(Kubectl::check(resource, &mut f)?),
        };
        Ok(Target {
            dir: f.dir,
            program,
            stage: f.stage,
            via,
        })
    }

    /// How the target is reached, one line: `ssh deploy@app1:2222 /srv/shop/current` or
    /// `kubectl exec deploy/shop -n shop -c web /app`.
    pub(crate) fn describe(&self) -> String {
        let mut text = match &self.via {
            Via::Ssh(ssh) => format!("ssh {}", ssh.destination),
            Via::Kubectl(k) => format!("kubectl {}", k.describe()),
        };
        match &self.dir {
            Some(dir) => text.push_str(&format!(" {dir}")),
            None => text.push_str(" (its working directory)"),
        }
        if self.program != DEFAULT_PROGRAM {
            text.push_str(&format!(", adminsh {}", self.program));
        }
        if let Some(stage) = &self.stage {
            text.push_str(&format!(", stage {stage}"));
        }
        if let Via::Ssh(ssh) = &self.via
            && ssh.hosts != [ssh.destination.clone()]
        {
            let labels: Vec<&str> = ssh.hosts.iter().map(|h| h.label.as_str()).collect();
            text.push_str(&format!(", --each on {}", labels.join(" ")));
        }
        text
    }
}

impl Ssh {
    /// An ssh target's keys: `ssh` (the destination), `dir`, and `hosts`, `port`, `identity`,
    /// `ssh_options` if it has them; none of kubectl's.
    fn check(ssh: &str, f: &mut Fields) -> anyhow::Result<Ssh> {
        only_for(
            "kubectl",
            &[
                ("namespace", f.namespace.is_some()),
                ("container", f.container.is_some()),
                ("context", f.context.is_some()),
                ("job", f.job.is_some()),
            ],
        )?;
        if f.dir.is_none() {
            anyhow::bail!("an ssh target needs `dir`, the release root on the host");
        }
        let destination = Host::parse(ssh, None, f.port)?;
        let hosts = match f.hosts.take() {
            Some(hosts) if hosts.is_empty() => anyhow::bail!("`hosts` is empty"),
            Some(hosts) => hosts
                .iter()
                .map(|h| Host::parse(h, destination.user.as_deref(), f.port))
                .collect::<Result<_, _>>()?,
            None => vec![destination.clone()],
        };
        Ok(Ssh {
            destination,
            hosts,
            identity: f.identity.take(),
            options: f.ssh_options.take().unwrap_or_default(),
        })
    }
}

impl Kubectl {
    /// A kubectl target's keys: `kubectl` (the resource), and `namespace`, `container`,
    /// `context`, `job` if it has them; none of ssh's.
    fn check(resource: String, f: &mut Fields) -> anyhow::Result<Kubectl> {
        only_for(
            "ssh",
            &[
                ("port", f.port.is_some()),
                ("identity", f.identity.is_some()),
                ("hosts", f.hosts.is_some()),
                ("ssh_options", f.ssh_options.is_some()),
            ],
        )?;
        if resource.trim().is_empty() {
            anyhow::bail!("`kubectl` is empty: name a pod or `deploy/NAME`");
        }
        let job = f.job.unwrap_or(false);
        let k = Kubectl {
            resource,
            namespace: f.namespace.take(),
            container: f.container.take(),
            context: f.context.take(),
            job,
        };
        if job && k.deployment().is_none() {
            anyhow::bail!(
                "`job = true` makes a Job from a Deployment's pod template, so `kubectl` must be `deploy/NAME`, not `{}`",
                k.resource
            );
        }
        Ok(k)
    }
}

fn only_for(kind: &str, present: &[(&str, bool)]) -> anyhow::Result<()> {
    match present.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(anyhow::anyhow!("`{key}` is for {kind} targets")),
        None => Ok(()),
    }
}

/// A host that is not `[user@]host[:port]`: as written, and what is wrong with it.
#[derive(Debug)]
pub(crate) struct BadHost {
    text: String,
    why: &'static str,
}

impl fmt::Display for BadHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not `[user@]host[:port]`: {}",
            self.text, self.why
        )
    }
}

impl std::error::Error for BadHost {}

impl Host {
    /// Reads `[user@]host[:port]`; the user and port default to the target's.
    pub(crate) fn parse(
        text: &str,
        user: Option<&str>,
        port: Option<u16>,
    ) -> Result<Host, BadHost> {
        let invalid = |why: &'static str| {
            Err(BadHost {
                text: text.to_owned(),
                why,
            })
        };
        let (own_user, rest) = match text.rsplit_once('@') {
            Some((u, rest)) => (Some(u), rest),
            None => (None, text),
        };
        if own_user.is_some_and(str::is_empty) {
            return invalid("the user is empty");
        }
        // `[::1]:22`, `app1:22`, `app1`, `::1`.
        let (host, own_port) = if let Some(inner) = rest.strip_prefix('[') {
            match inner.split_once(']') {
                Some((h, "")) => (h, None),
                Some((h, p)) => match p.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None => return invalid("a `]` must end the address or come before `:port`"),
                },
                None => return invalid("a `[` without its `]`"),
            }
        } else {
            match rest.split_once(':') {
                Some((h, p)) if !p.contains(':') => (h, Some(p)),
                _ => (rest, None),
            }
        };
        if host.is_empty() {
            return invalid("the host is empty");
        }
        if host.starts_with('-') || host.contains(char::is_whitespace) {
            return invalid("a host name has no spaces and does not start with `-`");
        }
        let port = match own_port {
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return invalid("the port is not a number from 1 to 65535"),
            },
            None => port,
        };
        Ok(Host {
            user: own_user.or(user).map(str::to_owned),
            host: host.to_owned(),
            port,
            label: text.to_owned(),
        })
    }

    /// What ssh is given as the destination: `user@host`.
    pub(crate) fn destination(&self) -> String {
        match &self.user {
            Some(user) => format!("{user}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

/// `user@host:port` (the port when one is set).
impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (&self.user, self.port) {
            (Some(user), Some(port)) => write!(f, "{user}@{host}:{port}"),
            (Some(user), None) => write!(f, "{user}@{host}"),
            (None, Some(port)) => write!(f, "{host}:{port}"),
            (None, None) => write!(f, "{host}"),
        }
    }
}

impl Kubectl {
    /// The Deployment `resource` names (`deploy/shop`, `deployment/shop`,
    /// `deployments.apps/shop`), if it names one.
    pub(crate) fn deployment(&self) -> Option<&str> {
        let (kind, name) = self.resource.split_once('/')?;
        let kind = kind.strip_suffix(".apps").unwrap_or(kind);
        let is_deployment = matches!(kind, "deploy" | "deployment" | "deployments");
        (is_deployment && !name.is_empty() && !name.contains('/')).then_some(name)
    }

    /// `exec deploy/shop -n shop -c web`, with `--context` first when set.
    pub(crate) fn describe(&self) -> String {
        let mut words = Vec::new();
        if let Some(context) = &self.context {
            words.push(format!("--context {context}"));
        }
        if self.job {
            words.push(format!("Job from {}", self.resource));
        } else {
            words.push(format!("exec {}", self.resource));
        }
        if let Some(namespace) = &self.namespace {
            words.push(format!("-n {namespace}"));
        }
        if let Some(container) = &self.container {
            words.push(format!("-c {container}"));
        }
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(text: &str) -> Host {
        Host::parse(text, Some("deploy"), Some(2222)).unwrap()
    }

    #[test]
    fn hosts_take_the_targets_user_and_port_unless_they_say() {
        let h = host("app1");
        assert_eq!(
            (h.destination(), h.port),
            ("deploy@app1".to_owned(), Some(2222))
        );
        assert_eq!(h.to_string(), "deploy@app1:2222");
        let h = host("root@app2:22");
        assert_eq!(
            (h.destination(), h.port),
            ("root@app2".to_owned(), Some(22))
        );
        assert_eq!(h.label, "root@app2:22");
        let h = host("[::1]:2200");
        assert_eq!((h.host.as_str(), h.port), ("::1", Some(2200)));
        assert_eq!(h.to_string(), "deploy@[::1]:2200");
        assert_eq!(host("::1").host, "::1");
        let bare = Host::parse("app1", None, None).unwrap();
        assert_eq!(bare.to_string(), "app1");
    }

    #[test]
    fn bad_hosts_say_why() {
        let error = |text: &str| Host::parse(text, None, None).unwrap_err().to_string();
        assert_eq!(
            error("app1:http"),
            "`app1:http` is not `[user@]host[:port]`: the port is not a number from 1 to 65535"
        );
        assert_eq!(
            error("@app1"),
            "`@app1` is not `[user@]host[:port]`: the user is empty"
        );
        assert_eq!(
            error("deploy@"),
            "`deploy@` is not `[user@]host[:port]`: the host is empty"
        );
        assert!(error("-oProxyCommand=x").contains("does not start with `-`"));
        assert!(error("[::1").contains("without its `]`"));
    }
}

#[cfg(test)]
mod manifest_tests {
    use std::path::Path;

    use super::*;
    use crate::release::Manifest;

    fn parse(text: &str) -> Result<BTreeMap<String, Target>, String> {
        Manifest::parse(text, Path::new("adminsh.toml"))
            .map(|m| m.targets)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn targets_are_read_with_their_defaults() {
        let targets = parse(
            "[targets.production]\nssh = \"deploy@app1\"\ndir = \"/srv/shop/current\"\nport = 2222\nhosts = [\"app1\", \"root@app2:22\"]\n\
             [targets.k8s]\nkubectl = \"deploy/shop\"\nnamespace = \"shop\"\ncontainer = \"web\"\nadminsh = \"/usr/local/bin/adminsh\"\nstage = \"production\"\n",
        )
        .unwrap();
        let production = &targets["production"];
        assert_eq!(production.program, "adminsh");
        let Via::Ssh(ssh) = &production.via else {
            panic!("{production:?}")
        };
        let hosts: Vec<String> = ssh.hosts.iter().map(Host::to_string).collect();
        assert_eq!(hosts, ["deploy@app1:2222", "root@app2:22"]);
        assert_eq!(
            production.describe(),
            "ssh deploy@app1:2222 /srv/shop/current, --each on app1 root@app2:22"
        );
        assert_eq!(
            targets["k8s"].describe(),
            "kubectl exec deploy/shop -n shop -c web (its working directory), adminsh /usr/local/bin/adminsh, stage production"
        );
    }

    #[test]
    fn mistakes_name_the_target_and_where_it_is() {
        assert_eq!(
            parse("name = \"shop\"\n\n[targets.production]\nssh = \"deploy@app1\"\nkubectl = \"deploy/shop\"\n")
                .unwrap_err(),
            "adminsh.toml:3:2: target `production`: it has both `ssh` and `kubectl`; a target is reached one way"
        );
        assert_eq!(
            parse("[targets.production]\ndir = \"/srv\"\n").unwrap_err(),
            "adminsh.toml:1:2: target `production`: it says neither `ssh = \"user@host\"` nor `kubectl = \"deploy/NAME\"`: how is it reached?"
        );
        assert_eq!(
            parse("[targets]\nproduction = { ssh = \"x\" }\n").unwrap_err(),
            "adminsh.toml:1:1: target `production`: an ssh target needs `dir`, the release root on the host"
        );
        assert!(
            parse("[targets.p]\nssh = \"x\"\ndir = \"/srv\"\ncolour = 1\n")
                .unwrap_err()
                .starts_with("adminsh.toml:4:1: unknown field `colour`, expected one of `ssh`")
        );
        assert_eq!(
            parse("[targets.k]\nkubectl = \"deploy/shop\"\nport = 22\n").unwrap_err(),
            "adminsh.toml:1:2: target `k`: `port` is for ssh targets"
        );
        assert_eq!(
            parse("[targets.s]\nssh = \"app1\"\ndir = \"/srv\"\nnamespace = \"x\"\n").unwrap_err(),
            "adminsh.toml:1:2: target `s`: `namespace` is for kubectl targets"
        );
        assert_eq!(
            parse("[targets.s]\nssh = \"app1\"\ndir = \"/srv\"\nhosts = [\"a:x\"]\n").unwrap_err(),
            "adminsh.toml:1:2: target `s`: `a:x` is not `[user@]host[:port]`: the port is not a number from 1 to 65535"
        );
        assert!(
            parse("targets = 3\n")
                .unwrap_err()
                .starts_with("adminsh.toml:1:11: invalid type")
        );
    }

    #[test]
    fn a_job_target_names_a_deployment() {
        let targets =
            parse("[targets.k]\nkubectl = \"deployments.apps/shop\"\njob = true\n").unwrap();
        let Via::Kubectl(k) = &targets["k"].via else {
            panic!("{targets:?}");
        };
        assert_eq!((k.job, k.deployment()), (true, Some("shop")));
        assert_eq!(
            targets["k"].describe(),
            "kubectl Job from deployments.apps/shop (its working directory)"
        );
        assert_eq!(
            parse("[targets.k]\nkubectl = \"pod/shop-7d9f\"\njob = true\n").unwrap_err(),
            "adminsh.toml:1:2: target `k`: `job = true` makes a Job from a Deployment's pod template, so `kubectl` must be `deploy/NAME`, not `pod/shop-7d9f`"
        );
        assert_eq!(
            parse("[targets.s]\nssh = \"app1\"\ndir = \"/srv\"\njob = true\n").unwrap_err(),
            "adminsh.toml:1:2: target `s`: `job` is for kubectl targets"
        );
    }
}
