//! Development aid: times the checker on one Porcupine kv or etcd file.
use replsim_model::history::{read_porcupine_kv_history, read_register_history, HistoryFormat};
use replsim_model::linearizability::porcupine_kv::PorcupineKvModel;
use replsim_model::linearizability::register::RegisterModel;
use replsim_model::linearizability::{check, Options};

fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let bytes = std::fs::read(&path).expect("readable");
    let started = std::time::Instant::now();
    let verdict = if path.ends_with(".txt") {
        let history = read_porcupine_kv_history(&path, &bytes, HistoryFormat::Auto).expect("parse");
        check(&PorcupineKvModel, &history, &Options::default())
    } else {
        let history = read_register_history(&path, &bytes, HistoryFormat::Auto, true).expect("parse");
        check(&RegisterModel::with_cas(), &history, &Options::default())
    };
    println!("{verdict}\n{:?}", started.elapsed());
}
