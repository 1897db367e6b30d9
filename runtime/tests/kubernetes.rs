//! deploy/kubernetes/: valid objects of the Kubernetes API (checked
//! offline by kubernetes-validate, PyPI, from scripts/test-tools.sh), each
//! named for its test so that tests side by side never meet; and its
//! Indexed Job run here as a cluster would run it: every pod's exact
//! command, environment and user, in a network namespace of its own,
//! against nginx and the collector in namespaces of theirs, merging to
//! exactly what nginx served.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmload_testkit::netns::Host;
use wasmload_testkit::{guest, Network, Nginx};

/// The test the manifests run: in every name and label.
const TEST: &str = "checkout";

/// The Kubernetes versions the manifests are checked against: the oldest
/// where everything they use is GA (`backoffLimitPerIndex`), and the newest
/// the pinned kubernetes-validate knows.
const VERSIONS: [&str; 2] = ["1.33.0", "1.37.0"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository above runtime/")
}

fn deploy() -> PathBuf {
    repo().join("deploy/kubernetes")
}

/// Every manifest of deploy/kubernetes/: its YAML files but the
/// kustomization, which is kustomize's input, not a Kubernetes object.
fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy())
        .expect("reading deploy/kubernetes")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml"))
        .filter(|path| !path.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in {}", deploy().display());
    files
}

/// A program of the kubernetes-validate venv (`kubernetes-validate`, or
/// `python` with PyYAML).
fn tool(name: &str) -> PathBuf {
    let tools = std::env::var_os("WASMLOAD_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/wasmload-tools")
    });
    let path = tools.join("kubernetes-validate/bin").join(name);
    assert!(path.exists(), "{} is missing: run scripts/test-tools.sh", path.display());
    path
}

/// Reads YAML documents on stdin, writes them as a JSON list.
const YAML_TO_JSON: &str = "import json, sys, yaml
json.dump([doc for doc in yaml.safe_load_all(sys.stdin) if doc is not None], sys.stdout)";

/// The documents of YAML `text`, as JSON, read by PyYAML.
fn yaml(text: &str) -> Vec<Value> {
    let mut python = Command::new(tool("python"))
        .args(["-c", YAML_TO_JSON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting python");
    let mut stdin = python.stdin.take().expect("python's stdin");
    std::io::Write::write_all(&mut stdin, text.as_bytes()).expect("writing to python");
    drop(stdin);
    let output = python.wait_with_output().expect("waiting for python");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("python's JSON")
}

/// Every manifest, as one YAML stream.
fn manifests() -> String {
    manifest_files()
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("reading a manifest"))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The objects of every manifest.
fn objects() -> Vec<Value> {
    yaml(&manifests())
}

fn kustomization() -> Value {
    let text = std::fs::read_to_string(deploy().join("kustomization.yaml"))
        .expect("reading kustomization.yaml");
    yaml(&text).remove(0)
}

/// The object of `kind` whose `app.kubernetes.io/component` label is
/// `component`.
fn find<'a>(objects: &'a [Value], kind: &str, component: &str) -> &'a Value {
    objects
        .iter()
        .find(|object| {
            object["kind"] == kind
                && object["metadata"]["labels"]["app.kubernetes.io/component"] == component
        })
        .unwrap_or_else(|| panic!("no {kind} of the {component} in deploy/kubernetes"))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a string"))
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

#[test]
fn every_manifest_is_a_valid_kubernetes_object() {
    let files = manifest_files();
    for version in VERSIONS {
        let output = Command::new(tool("kubernetes-validate"))
            .args(["--strict", "--kubernetes-version", version])
            .args(&files)
            .output()
            .expect("running kubernetes-validate");
        assert!(
            output.status.success(),
            "kubernetes-validate --strict for Kubernetes {version}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // `kubectl apply -k` applies the same files as the README's `apply -f`.
    let listed: BTreeSet<PathBuf> =
        list(&kustomization()["resources"]).iter().map(|file| deploy().join(text(file))).collect();
    assert_eq!(listed, files.into_iter().collect(), "kustomization.yaml's resources");
}

/// Whether `selector` (a Service's, or `matchLabels`) selects `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|selector| {
        !selector.is_empty() && selector.iter().all(|(key, value)| labels[key] == *value)
    })
}

#[test]
fn every_object_and_reference_carries_the_tests_name() {
    let objects = objects();
    let generated = &kustomization()["configMapGenerator"][0];
    let prefix = format!("wasmload-{TEST}-");
    for object in objects.iter().chain([generated]) {
        let name = object["metadata"]["name"].as_str().or(object["name"].as_str());
        let name = name.unwrap_or_else(|| panic!("a nameless object: {object}"));
        assert!(name.starts_with(&prefix), "{name} does not start with {prefix}");
        let labels = if object["metadata"].is_null() {
            &object["options"]["labels"]
        } else {
            &object["metadata"]["labels"]
        };
        assert_eq!(labels["wasmload.dev/test"], TEST, "the labels of {name}");
        let pod = &object["spec"]["template"]["metadata"]["labels"];
        if !pod.is_null() {
            assert_eq!(pod["wasmload.dev/test"], TEST, "the pods' labels of {name}");
        }
    }
    // What the pods name is an object of this test.
    let names: BTreeSet<&str> = objects
        .iter()
        .map(|object| text(&object["metadata"]["name"]))
        .chain([text(&generated["name"])])
        .collect();
    for job in objects.iter().filter(|object| object["kind"] == "Job") {
        for volume in list(&job["spec"]["template"]["spec"]["volumes"]) {
            let named = volume["configMap"]["name"].as_str();
            let named = named.or(volume["persistentVolumeClaim"]["claimName"].as_str());
            let named = named.unwrap_or_else(|| panic!("a volume of another kind: {volume}"));
            assert!(names.contains(named), "{named} is none of {names:?}");
        }
    }
    let service = find(&objects, "Service", "collector");
    let worker = &find(&objects, "Job", "worker")["spec"]["template"]["spec"]["containers"][0];
    let collector_url = list(&worker["args"])
        .iter()
        .find_map(|arg| text(arg).strip_prefix("--collector="))
        .expect("the workers' --collector");
    assert!(
        collector_url.starts_with(&format!("http://{}:", text(&service["metadata"]["name"]))),
        "{collector_url} is not the Service's"
    );
    // The Service selects the collector's pods only.
    for object in objects.iter().filter(|object| object["kind"] == "Job") {
        let labels = &object["spec"]["template"]["metadata"]["labels"];
        let selected = selects(&service["spec"]["selector"], labels);
        assert_eq!(selected, labels["app.kubernetes.io/component"] == "collector", "{labels}");
    }

    // A copy for another test: no name in common, no selector reaching across.
    let copy = yaml(&manifests().replace(TEST, "search"));
    let key = |object: &Value| format!("{}/{}", object["kind"], object["metadata"]["name"]);
    let ours: BTreeSet<String> = objects.iter().map(key).collect();
    assert!(copy.iter().all(|object| !ours.contains(&key(object))), "a name in common");
    for (services, pods) in [(&objects, &copy), (&copy, &objects)] {
        for service in services.iter().filter(|object| object["kind"] == "Service") {
            for pod in pods.iter().map(|object| &object["spec"]["template"]["metadata"]["labels"]) {
                assert!(!selects(&service["spec"]["selector"], pod), "{service} selects {pod}");
            }
        }
    }
}

/// `$(NAME)` replaced by the value `vars` gives NAME, or left as it is
/// when NAME has none; `$$` is a `$`: Kubernetes' expansion of command,
/// args and env values (third_party/forked/golang/expansion).
fn expand(input: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut expanded = String::new();
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        expanded.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            expanded.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
            expanded.push_str(&vars(name).unwrap_or_else(|| format!("$({name})")));
            rest = tail;
        } else {
            expanded.push('$');
            rest = after;
        }
    }
    expanded + rest
}

#[test]
fn variables_expand_as_kubernetes_expands_them() {
    let vars = |name: &str| (name == "INDEX").then(|| "2".to_owned());
    assert_eq!(expand("--segment=$(INDEX)/3", &vars), "--segment=2/3");
    assert_eq!(
        expand("$(MISSING) $$(INDEX) $$ $x $(INDEX", &vars),
        "$(MISSING) $(INDEX) $ $x $(INDEX"
    );
    assert_eq!(expand("$(INDEX)$(INDEX)$", &vars), "22$");
}

/// How a cluster would start one container of a pod, here.
struct PodCommand {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// runAsUser and runAsGroup: who runs it.
    user: (u64, u64),
    /// fsGroup, if any: a supplementary group.
    groups: Vec<u64>,
}

/// Where this machine holds what a pod's volumes would: (mount path,
/// local directory).
type Mounts = Vec<(String, PathBuf)>;

/// The first container of `job`'s pod with completion index `index` (for
/// an Indexed Job) at `address`, as the kubelet would run it from the
/// image of deploy/Containerfile: the image's entrypoint is `wasmload`,
/// each volume's mount path is its local directory, and `load` replaces
/// (or adds) env entries by name.
fn pod_command(
    job: &Value,
    wasmload: &Path,
    index: Option<u32>,
    address: Ipv4Addr,
    mounts: &Mounts,
    load: &[(&str, &str)],
) -> PodCommand {
    let job_name = text(&job["metadata"]["name"]);
    let template = &job["spec"]["template"];
    let spec = &template["spec"];
    let container = &spec["containers"][0];
    // Service links would add WASMLOAD_<SERVICE>_* variables, which
    // wasmload reads as options; the simulation does not make them.
    assert_eq!(spec["enableServiceLinks"], false, "enableServiceLinks of {job_name}");
    let entrypoint = std::fs::read_to_string(repo().join("deploy/Containerfile"))
        .expect("reading deploy/Containerfile")
        .lines()
        .find_map(|line| {
            line.strip_prefix("ENTRYPOINT [\"").and_then(|rest| rest.strip_suffix("\"]"))
        })
        .expect("the Containerfile's ENTRYPOINT")
        .to_owned();
    assert_eq!(container["command"], serde_json::json!([entrypoint]), "{job_name}'s command");

    // What the Job controller and the kubelet add: the completion index as
    // an annotation, a label and JOB_COMPLETION_INDEX; the pod's name as
    // HOSTNAME; the API's Service (always, even without service links).
    let pod_name = match index {
        Some(index) => format!("{job_name}-{index}-sim{index:02}"),
        None => format!("{job_name}-sim00"),
    };
    let mut annotations = template["metadata"]["annotations"].clone();
    let mut labels = template["metadata"]["labels"].clone();
    let mut declared = list(&container["env"]).to_vec();
    if let Some(index) = index {
        let key = "batch.kubernetes.io/job-completion-index";
        annotations[key] = index.to_string().into();
        labels[key] = index.to_string().into();
        if !declared.iter().any(|entry| entry["name"] == "JOB_COMPLETION_INDEX") {
            declared.push(serde_json::json!({"name": "JOB_COMPLETION_INDEX", "valueFrom":
                {"fieldRef": {"fieldPath": format!("metadata.annotations['{key}']")}}}));
        }
    }
    let field = |path: &str| -> String {
        let keyed = |prefix: &str, map: &Value| {
            let key = path.strip_prefix(prefix)?.strip_suffix("']")?;
            Some(text(&map[key]).to_owned())
        };
        match path {
            "metadata.name" => pod_name.clone(),
            "metadata.namespace" => "default".into(),
            "status.podIP" => address.to_string(),
            _ => keyed("metadata.annotations['", &annotations)
                .or_else(|| keyed("metadata.labels['", &labels))
                .unwrap_or_else(|| panic!("the simulation does not know fieldRef {path}")),
        }
    };
    assert!(container["envFrom"].is_null(), "the simulation does not know envFrom");
    // The variables $(VAR) may name: the Service's, then the env entries.
    let mut env: Vec<(String, String)> = [
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
        ("KUBERNETES_SERVICE_PORT", "443"),
        ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
        ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
        ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"),
        ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
        ("KUBERNETES_PORT_443_TCP_PORT", "443"),
        ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    // Each value sees the entries before it.
    for entry in &declared {
        let name = text(&entry["name"]).to_owned();
        let value = match (&entry["value"], &entry["valueFrom"]["fieldRef"]["fieldPath"]) {
            (Value::String(value), _) => {
                let known = env.clone();
                expand(value, &|var| known.iter().find(|(n, _)| n == var).map(|(_, v)| v.clone()))
            }
            (_, Value::String(path)) => field(path),
            _ => panic!("the simulation does not know this env entry: {entry}"),
        };
        env.retain(|(known, _)| *known != name);
        env.push((name, value));
    }
    for (name, value) in load {
        env.retain(|(known, _)| known != name);
        env.push((name.to_string(), value.to_string()));
    }
    let lookup = |var: &str| env.iter().find(|(name, _)| name == var).map(|(_, v)| v.clone());
    let args = list(&container["args"])
        .iter()
        .map(|arg| {
            let mut arg = expand(text(arg), &lookup);
            for (mount, local) in mounts {
                arg = arg.replace(&format!("{mount}/"), &format!("{}/", local.display()));
            }
            arg
        })
        .collect();
    // And the image's PATH, the runtime's HOSTNAME and HOME (no user
    // database in the image: /).
    let runtime = [
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ("HOSTNAME", &pod_name),
        ("HOME", "/"),
    ];
    let env = runtime.iter().map(|(name, value)| (name.to_string(), value.to_string())).chain(env);
    let env = env.collect();
    let context = &spec["securityContext"];
    let user = context["runAsUser"].as_u64().expect("a numeric runAsUser");
    let group = context["runAsGroup"].as_u64().unwrap_or(user);
    let groups = context["fsGroup"].as_u64().into_iter().collect();
    PodCommand { program: wasmload.to_owned(), args, env, user: (user, group), groups }
}

/// A process of the simulation, killed when dropped (the test failed),
/// its stdout and stderr in files.
struct Process {
    name: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Process {
    /// Starts `pod` on `host`, with nothing of this process's environment,
    /// as its user, in a directory of its own that user cannot write (as
    /// the image's read-only root).
    fn start(name: &str, host: &Host, pod: &PodCommand, scratch: &Path) -> Process {
        let root = scratch.join(format!("{name}-root"));
        std::fs::create_dir_all(&root).expect("a pod's root");
        let (stdout, stderr) =
            (scratch.join(format!("{name}.out")), scratch.join(format!("{name}.err")));
        let file = |path: &Path| std::fs::File::create(path).expect("a pod's log file");
        let (user, group) = pod.user;
        let groups = pod.groups.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let groups =
            if groups.is_empty() { "--clear-groups".into() } else { format!("--groups={groups}") };
        let child = host
            .command("setpriv")
            .args([format!("--reuid={user}"), format!("--regid={group}"), groups])
            .arg("--")
            .arg(&pod.program)
            .args(&pod.args)
            .env_clear()
            .envs(pod.env.iter().map(|(name, value)| (name, value)))
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(file(&stdout))
            .stderr(file(&stderr))
            .spawn()
            .expect("starting a pod (ip netns exec ... setpriv ...)");
        Process { name: name.into(), child, stdout, stderr }
    }

    /// Its exit code once it has ended (None when killed by a signal).
    fn ended(&mut self) -> Option<Option<i32>> {
        self.child.try_wait().expect("waiting for a process").map(|status| status.code())
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Everything it wrote, to explain a failure.
    fn output(&self) -> String {
        format!("{}: stdout:\n{}\nstderr:\n{}", self.name, self.stdout(), self.stderr())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// (host, port) of an `http://HOST[:PORT]` URL.
fn host_and_port(url: &str) -> (&str, u16) {
    let authority = url.strip_prefix("http://").unwrap_or_else(|| panic!("{url} is not http://"));
    let authority = authority.split('/').next().unwrap_or_default();
    match authority.split_once(':') {
        Some((host, port)) => (host, port.parse().expect("a port")),
        None => (authority, 80),
    }
}

/// The value of `--flag=VALUE` among `args`.
fn flag<'a>(args: &'a [Value], name: &str) -> &'a str {
    let prefix = format!("{name}=");
    args.iter()
        .find_map(|arg| text(arg).strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {name}=... among {args:?}"))
}

/// (users, `GET /` requests) from a worker's table: "Response times in
/// ms; 3 users over ...", "│ GET    /    140 ...".
fn users_and_requests(stdout: &str) -> (u64, u64) {
    let users = stdout
        .split_once("ms; ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|users| users.parse().ok())
        .unwrap_or_else(|| panic!("no user count in {stdout}"));
    let requests = stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.get(1..3) == Some(&["GET", "/"][..]))
        .and_then(|words| words[3].replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no GET / row in {stdout}"));
    (users, requests)
}

#[test]
fn the_indexed_job_run_as_three_pods_merges_exactly() {
    let objects = objects();
    let workers = find(&objects, "Job", "worker");
    let collector = find(&objects, "Job", "collector");
    let service = find(&objects, "Service", "collector");
    let spec = &workers["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let pods = spec["completions"].as_u64().expect("completions") as u32;
    assert_eq!(spec["parallelism"], pods, "every pod at once: the collector waits for all");
    let collector_args = list(&collector["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert_eq!(flag(collector_args, "--segments"), pods.to_string(), "the collector's --segments");

    // The cluster's names, as its DNS would answer them: the Service, and
    // the target the test names (port for port: the simulation has no
    // Service proxy, so the Service's port must be the collector's).
    let (listen_host, listen_port) =
        flag(collector_args, "--listen").rsplit_once(':').expect("--listen");
    assert_eq!(listen_host, "0.0.0.0");
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["port"], port["targetPort"]);
    assert_eq!(port["port"].to_string(), listen_port);
    let worker = &spec["template"]["spec"]["containers"][0];
    let declared = |name: &str| {
        list(&worker["env"])
            .iter()
            .find(|entry| entry["name"] == name)
            .map(|entry| text(&entry["value"]))
            .unwrap_or_else(|| panic!("the workers declare no {name}"))
    };
    let (target_name, target_port) = host_and_port(declared("WASMLOAD_HOST"));
    let service_name = text(&service["metadata"]["name"]);
    let collector_address = Ipv4Addr::new(10, 244, 0, 10);
    let target_address = Ipv4Addr::new(10, 244, 0, 20);
    let names = [(service_name, collector_address), (target_name, target_address)];

    // Declared first, dropped last: the namespaces outlive their processes.
    let mut network = Network::new();
    let target = network.host("target", target_address, &[]);
    let nginx = Nginx::start_on((target_address, target_port).into(), 1, target.command("nginx"));
    let collector_host = network.host("collector", collector_address, &[]);
    let scratch =
        Scratch(std::env::temp_dir().join(format!("wasmload-kubernetes-{}", std::process::id())));

    // The volumes: the ConfigMap's key holds the component (the built
    // http-hammer: GET / in a loop), the reports' claim is a directory the
    // pod's user (fsGroup) may write.
    let generated = &kustomization()["configMapGenerator"][0];
    let component = scratch.0.join("component");
    std::fs::create_dir_all(&component).expect("the component's directory");
    for file in list(&generated["files"]) {
        let key = text(file).split('=').next().unwrap_or_default();
        std::fs::copy(guest("http-hammer"), component.join(key)).expect("copying the component");
    }
    // The image: wasmload where the Containerfile puts it (here, where the
    // pods' user can reach it).
    let image = scratch.0.join("image");
    std::fs::create_dir_all(&image).expect("the image's directory");
    let wasmload = image.join("wasmload");
    let built = Path::new(env!("CARGO_BIN_EXE_wasmload"));
    if std::fs::hard_link(built, &wasmload).is_err() {
        std::fs::copy(built, &wasmload).expect("copying wasmload");
    }
    let reports = scratch.0.join("reports");
    std::fs::create_dir_all(&reports).expect("the reports' directory");
    let fs_group = collector["spec"]["template"]["spec"]["securityContext"]["fsGroup"].to_string();
    let chown = Command::new("chown").arg(format!(":{fs_group}")).arg(&reports).status();
    assert!(chown.is_ok_and(|status| status.success()), "chown of the reports' directory");
    let chmod = Command::new("chmod").arg("g+w").arg(&reports).status();
    assert!(chmod.is_ok_and(|status| status.success()), "chmod of the reports' directory");
    let mounts = |job: &Value| -> Mounts {
        let container = &job["spec"]["template"]["spec"]["containers"][0];
        list(&container["volumeMounts"])
            .iter()
            .map(|mount| {
                let volume = list(&job["spec"]["template"]["spec"]["volumes"])
                    .iter()
                    .find(|volume| volume["name"] == mount["name"])
                    .expect("the mount's volume");
                let local = if volume["configMap"].is_object() {
                    &component
                } else if volume["persistentVolumeClaim"].is_object() {
                    &reports
                } else {
                    panic!("the simulation knows no volume like {volume}")
                };
                (text(&mount["mountPath"]).to_owned(), local.clone())
            })
            .collect()
    };

    // The test's load made small: 3 users a pod for 3 s, each waiting 20 ms
    // between requests; the rest of the test as the manifest says.
    let share = 3;
    let users = (share * pods).to_string();
    let load = [
        ("WASMLOAD_USERS", users.as_str()),
        ("WASMLOAD_RUN_TIME", "3s"),
        ("WASMLOAD_PARAM", "WAIT_MS=20"),
    ];
    declared("WASMLOAD_USERS");
    declared("WASMLOAD_RUN_TIME");
    let started = Instant::now();
    // As on a cluster, nothing orders the two Jobs: the pods start first
    // and retry until the collector listens.
    let mut running = Vec::new();
    for index in 0..pods {
        let address = Ipv4Addr::new(10, 244, 0, 100 + index as u8);
        let host = network.host(&format!("pod{index}"), address, &names);
        let pod = pod_command(workers, &wasmload, Some(index), address, &mounts(workers), &load);
        let segment = format!("--segment={index}/{pods}");
        assert!(pod.args.contains(&segment), "pod {index} runs no {segment}: {:?}", pod.args);
        running.push((address, Process::start(&format!("pod{index}"), &host, &pod, &scratch.0)));
    }
    let pod = pod_command(collector, &wasmload, None, collector_address, &mounts(collector), &[]);
    let mut collecting = Process::start("collector", &collector_host, &pod, &scratch.0);

    // Every process ends, with 0; the first that does not fails the test.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut waiting: Vec<&mut Process> =
        running.iter_mut().map(|(_, process)| process).chain([&mut collecting]).collect();
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for process in waiting {
            match process.ended() {
                None => still.push(process),
                Some(Some(0)) => {}
                Some(code) => panic!("exit code {code:?} of {}", process.output()),
            }
        }
        waiting = still;
        let late = waiting.iter().map(|process| process.output()).collect::<Vec<_>>();
        assert!(Instant::now() < deadline, "still running after 120 s: {late:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("{}", collecting.stdout());
    let shares: Vec<_> = running
        .iter()
        .map(|(address, process)| (*address, users_and_requests(&process.stdout())))
        .collect();
    eprintln!("{} pods and the collector ran in {:?}", pods, started.elapsed());

    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("summary.json"))
            .expect("the collector's JSON report"),
    )
    .expect("a JSON summary");
    for report in ["run_stats.csv", "report.html"] {
        assert!(reports.join(report).exists(), "no {report} among the reports");
    }
    let merged = list(&summary["requests"])
        .iter()
        .find(|row| row["type"] == "GET" && row["name"] == "/")
        .and_then(|row| row["count"].as_u64())
        .expect("a GET / row in the merged summary");
    assert!(merged > 100, "{merged} requests");
    assert_eq!(merged, nginx.count("GET", "/"), "every request nginx logged, and no other");
    // Each pod ran its third, from its own address.
    let per_pod: BTreeMap<String, u64> = nginx.by_client().into_iter().collect();
    let expected: BTreeMap<String, u64> =
        shares.iter().map(|(address, (_, requests))| (address.to_string(), *requests)).collect();
    assert_eq!(per_pod, expected, "what nginx served each pod's address, and each pod's table");
    assert!(shares.iter().all(|(_, (users, _))| *users == u64::from(share)), "{shares:?}");
    assert_eq!(summary["users"], pods * share, "the whole test's users: {pods} pods' shares");
    assert_eq!(summary["totals"]["failures"], 0);
}
