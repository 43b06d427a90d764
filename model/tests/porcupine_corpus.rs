//! Porcupine's test data (`shared/porcupine-data`): every file gets the verdict its MANIFEST.tsv
//! records. The data lives outside the repository; without it these tests say so and pass.

use std::path::PathBuf;

use replsim_model::history::{read_porcupine_kv_history, read_register_history, HistoryFormat};
use replsim_model::linearizability::porcupine_kv::PorcupineKvModel;
use replsim_model::linearizability::register::RegisterModel;
use replsim_model::linearizability::{check, Options, Verdict};

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/porcupine-data");
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        println!("skipped: Porcupine test data not found at {}", dir.display());
        None
    }
}

/// (file, expected linearizable) for every tested file of the manifest.
fn manifest(dir: &std::path::Path, prefix: &str) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("readable manifest");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let expected = match *fields.get(3)? {
                "linearizable" => true,
                "not-linearizable" => false,
                _ => return None,
            };
            fields[0].starts_with(prefix).then(|| (fields[0].to_string(), expected))
        })
        .collect()
}

fn assert_verdict(file: &str, verdict: &Verdict, expected_linearizable: bool) {
    match (verdict, expected_linearizable) {
        (Verdict::Linearizable(_), true) | (Verdict::NotLinearizable(_), false) => {}
        _ => panic!("{file}: expected linearizable={expected_linearizable}, got {verdict}"),
    }
}

#[test]
fn every_etcd_log_gets_the_manifest_verdict() {
    let Some(dir) = corpus_dir() else { return };
    let files = manifest(&dir, "jepsen/");
    assert_eq!(files.len(), 102, "the manifest lists 102 tested etcd logs");
    let (mut good, mut bad) = (0, 0);
    for (file, expected) in files {
        let bytes = std::fs::read(dir.join(&file)).expect("readable log");
        let history = read_register_history(&file, &bytes, HistoryFormat::Auto, true).expect("well-formed log");
        let verdict = check(&RegisterModel::with_cas(), &history, &Options::default());
        assert_verdict(&file, &verdict, expected);
        if expected {
            good += 1
        } else {
            bad += 1
        }
    }
    assert!(good > 0 && bad > 0, "the corpus holds both known-good and known-bad logs");
}

#[test]
fn every_kv_history_gets_the_manifest_verdict() {
    let Some(dir) = corpus_dir() else { return };
    let files = manifest(&dir, "kv/");
    assert_eq!(files.len(), 6);
    for (file, expected) in files {
        let bytes = std::fs::read(dir.join(&file)).expect("readable history");
        let history = read_porcupine_kv_history(&file, &bytes, HistoryFormat::Auto).expect("well-formed history");
        let verdict = check(&PorcupineKvModel, &history, &Options::default());
        assert_verdict(&file, &verdict, expected);
    }
}
