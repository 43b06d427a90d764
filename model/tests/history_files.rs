//! Reading history files: every supported format, a round trip of replsim's own, and a clean
//! error naming file, line and problem for every kind of malformed input.

use replsim_model::check::SimTime;
use replsim_model::command::{Command, Db, Response};
use replsim_model::history::{
    jsonl, read_kv_history, read_porcupine_kv_history, read_register_history, HistoryFormat, Operation, ReadError,
};
use replsim_model::linearizability::porcupine_kv::PorcupineKvModel;
use replsim_model::linearizability::register::RegisterModel;
use replsim_model::linearizability::{check, check_client_history, Options};

fn register_error(text: &[u8]) -> ReadError {
    read_register_history("h.log", text, HistoryFormat::Auto, true).expect_err("malformed")
}

#[test]
fn an_etcd_log_reads_with_fail_dropped_and_info_indeterminate() {
    let log = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
               INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n\
               INFO  jepsen.util - 0\t:ok\t:write\t1\n\
               INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n\
               INFO  jepsen.util - 2\t:invoke\t:write\t3\n\
               INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n\
               INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
               INFO  jepsen.util - 3\t:ok\t:read\t3\n";
    let history = read_register_history("h.log", log.as_bytes(), HistoryFormat::Auto, true).unwrap();
    assert_eq!(history.len(), 3, "the failed cas is dropped");
    assert_eq!(history[1].returned, None, "the :info write has no return");
    assert!(check(&RegisterModel::with_cas(), &history, &Options::default()).is_linearizable());

    let stale = log.replace(":ok\t:read\t3", ":ok\t:read\t2");
    let history = read_register_history("h.log", stale.as_bytes(), HistoryFormat::Auto, true).unwrap();
    assert!(check(&RegisterModel::with_cas(), &history, &Options::default()).is_not_linearizable());
}

#[test]
fn an_edn_vector_and_edn_lines_read_alike() {
    let lines = "{:process 0, :type :invoke, :f :append, :key \"k\", :value \"x\"}\n\
                 {:process 0, :type :ok, :f :append, :key \"k\", :value \"x\"}\n\
                 {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n\
                 {:process 1, :type :ok, :f :get, :key \"k\", :value \"x\"}\n";
    let vector = format!("[{}]", lines.replace('\n', "\n "));
    let from_lines = read_porcupine_kv_history("h.edn", lines.as_bytes(), HistoryFormat::Auto).unwrap();
    let from_vector = read_porcupine_kv_history("h.edn", vector.as_bytes(), HistoryFormat::Auto).unwrap();
    assert_eq!(from_lines, from_vector);
    assert!(check(&PorcupineKvModel, &from_lines, &Options::default()).is_linearizable());
    // The read after the append completed sees nothing.
    let wrong = lines.replace(":ok, :f :get, :key \"k\", :value \"x\"", ":ok, :f :get, :key \"k\", :value \"\"");
    let history = read_porcupine_kv_history("h.edn", wrong.as_bytes(), HistoryFormat::Auto).unwrap();
    assert!(check(&PorcupineKvModel, &history, &Options::default()).is_not_linearizable());
}

#[test]
fn a_jepsen_edn_history_with_time_and_index_reads() {
    let text = "[{:type :invoke, :f :write, :value 1, :process 0, :time 100, :index 0}\n\
                 {:type :ok, :f :write, :value 1, :process 0, :time 200, :index 1}\n\
                 {:type :info, :f :start, :value nil, :process :nemesis, :time 250, :index 2}\n\
                 {:type :invoke, :f :read, :value nil, :process 1, :time 300, :index 3}\n\
                 {:type :ok, :f :read, :value 1, :process 1, :time 400, :index 4}]";
    let history = read_register_history("h.edn", text.as_bytes(), HistoryFormat::Edn, false).unwrap();
    assert_eq!(history.len(), 2, "nemesis ops are skipped");
    assert!(check(&RegisterModel::plain(), &history, &Options::default()).is_linearizable());
}

#[test]
fn replsim_jsonl_round_trips() {
    let history = vec![
        Operation {
            client: 1,
            call: SimTime(0),
            returned: Some(SimTime(10)),
            input: Command::set(Db(0), "a", "1"),
            output: Some(Response::Ok),
        },
        Operation { client: 2, call: SimTime(5), returned: None, input: Command::FlushDb { db: Db(0) }, output: None },
        Operation {
            client: 1,
            call: SimTime(20),
            returned: Some(SimTime(30)),
            input: Command::get(Db(0), "a"),
            output: Some(Response::Value(None)),
        },
    ];
    let mut bytes = Vec::new();
    jsonl::write(&mut bytes, &history).unwrap();
    let read = read_kv_history("h.jsonl", &bytes, HistoryFormat::Auto).unwrap();
    assert_eq!(read, history);
    assert!(check_client_history(&read, &Options::default()).is_linearizable());
}

#[test]
fn a_truncated_line_is_named() {
    let error = register_error(b"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\n");
    assert_eq!((error.file.as_str(), error.line), ("h.log", 2));
    assert!(error.problem.contains("truncated"), "{error}");

    let error = read_porcupine_kv_history(
        "h.edn",
        b"{:process 0, :type :invoke, :f :get, :key \"k\"}\n{:process 0, :type :ok, :f",
        HistoryFormat::Auto,
    )
    .expect_err("truncated");
    assert!(error.problem.contains("truncated") && error.to_string().starts_with("h.edn:2:"), "{error}");

    let mut bytes = Vec::new();
    jsonl::write(
        &mut bytes,
        &[Operation {
            client: 1,
            call: SimTime(0),
            returned: None,
            input: Command::get(Db(0), "a"),
            output: None::<Response>,
        }],
    )
    .unwrap();
    bytes.truncate(bytes.len() - 6);
    let error = read_kv_history("h.jsonl", &bytes, HistoryFormat::Auto).expect_err("truncated");
    assert_eq!(error.line, 1);
    assert!(error.problem.contains("truncated"), "{error}");
}

#[test]
fn an_unknown_op_is_named() {
    let error = register_error(b"INFO  jepsen.util - 0\t:invoke\t:frobnicate\t1\n");
    assert_eq!(error.line, 1);
    assert!(error.problem.contains("unknown op :frobnicate"), "{error}");
    let error =
        read_register_history("h.log", b"INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2]\n", HistoryFormat::Auto, false)
            .expect_err("a plain register has no cas");
    assert!(error.problem.contains("unknown op :cas for model register"), "{error}");
}

#[test]
fn an_unmatched_return_is_named() {
    let error = register_error(b"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t3\n");
    assert_eq!(error.line, 2);
    assert!(error.problem.contains("unmatched return"), "{error}");
}

#[test]
fn non_utf8_is_named_with_its_line() {
    let error = register_error(b"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO \xff\xfe\n");
    assert_eq!(error.line, 2);
    assert!(error.problem.contains("UTF-8"), "{error}");
}
