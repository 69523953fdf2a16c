//! A private PostgreSQL cluster: initdb, start, connect, stop. Here it also gives the one setting the
//! shared test server cannot: password authentication, to see a wrong password refused in one sentence.

mod common;

use common::eventos;
use eventos::demo::cluster::{Cluster, ClusterSpec, find_server_binaries, scratch_root};

/// None, after saying why, where this machine has no server programs.
async fn password_cluster(label: &str) -> Option<Cluster> {
    if let Err(why) = find_server_binaries().await {
        eprintln!("skipped: {why:#}");
        return None;
    }
    let root = scratch_root(label).expect("scratch dir");
    let spec = ClusterSpec {
        root,
        superuser: "eventos_admin".to_owned(),
        password: Some("correct horse battery staple".to_owned()),
    };
    let cluster = Cluster::init(&spec).await.expect("initdb");
    cluster.start().await.expect("start");
    Some(cluster)
}

async fn finish(cluster: Cluster) {
    cluster.stop().await.expect("stop");
    assert!(
        !cluster.is_running().await,
        "the server still runs after stop"
    );
    let _ = std::fs::remove_dir_all(&cluster.root);
}

fn doctor(url: &str) -> std::process::Output {
    eventos(&["doctor", "--database-url", url])
        .output()
        .expect("run eventos doctor")
}

#[tokio::test]
async fn a_wrong_or_missing_password_is_one_sentence_and_the_right_one_gets_in() {
    let Some(cluster) = password_cluster("password").await else {
        return;
    };

    let wrong = doctor(&cluster.tcp_url("postgres", Some("tr0ub4dor")));
    let stderr = String::from_utf8_lossy(&wrong.stderr).to_string();
    let missing = doctor(&cluster.tcp_url("postgres", None));
    let missing_err = String::from_utf8_lossy(&missing.stderr).to_string();
    let right = doctor(&cluster.tcp_url("postgres", Some("correct horse battery staple")));
    let right_out = String::from_utf8_lossy(&right.stdout).to_string();
    finish(cluster).await;

    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("refused the password for user \"eventos_admin\""),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tr0ub4dor"),
        "the password leaked: {stderr}"
    );

    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(missing_err.lines().count(), 1, "{missing_err}");
    assert!(missing_err.contains("asks for a password"), "{missing_err}");

    // The right password reaches the server; the schema is simply not there yet.
    assert!(right_out.contains("PostgreSQL 1"), "{right_out}");
}

#[tokio::test]
async fn a_cluster_restarts_on_the_same_port_with_its_data() {
    let Some(cluster) = password_cluster("restart").await else {
        return;
    };
    let port = cluster.port;
    cluster.stop().await.expect("stop");
    let reopened = Cluster::init(&ClusterSpec {
        root: cluster.root.clone(),
        superuser: "eventos_admin".to_owned(),
        password: None,
    })
    .await
    .expect("reopen");
    assert_eq!(reopened.port, port, "a second run reuses the cluster");
    reopened.start().await.expect("start again");
    assert!(reopened.is_running().await);
    finish(reopened).await;
}
