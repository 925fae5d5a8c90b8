//! The CLI answering what `@modelcontextprotocol/server-everything` (npm) asks of a client, from
//! the command line: `--sample-reply` for its sampling request, `--elicit-json` for its
//! elicitation form, `--root` for its roots. Without them the client announces none of these,
//! and the server offers none of the tools that ask.

use keyhole_e2e::cli::Cli;
use keyhole_e2e::peers::ServerEverything;

#[tokio::test]
async fn sampling_elicitation_and_roots_are_answered_from_the_command_line() {
    let everything = ServerEverything::start();
    let cli = Cli::new();
    let url = everything.url.as_str();

    let plain = cli.run(&["--url", url, "tools", "list"]).await;
    assert_eq!(plain.code, 0, "{plain:?}");
    assert!(
        !plain.stdout.contains("trigger-sampling-request"),
        "{plain:?}"
    );

    let sampled = cli
        .run(&[
            "--url",
            url,
            "--sample-reply",
            "a reply from the terminal",
            "tools",
            "call",
            "trigger-sampling-request",
            "--arg",
            "prompt=a haiku",
        ])
        .await;
    assert_eq!(sampled.code, 0, "{sampled:?}");
    assert!(
        sampled.stdout.contains("a reply from the terminal"),
        "{sampled:?}"
    );

    let elicited = cli
        .run(&[
            "--url",
            url,
            "--elicit-json",
            r#"{"name": "Ada Lovelace"}"#,
            "tools",
            "call",
            "trigger-elicitation-request",
        ])
        .await;
    assert_eq!(elicited.code, 0, "{elicited:?}");
    assert!(
        elicited.stdout.contains("Name: Ada Lovelace"),
        "{elicited:?}"
    );

    let rooted = cli
        .run(&[
            "--url",
            url,
            "--root",
            "file:///tmp/keyhole-cli-root",
            "tools",
            "call",
            "get-roots-list",
        ])
        .await;
    assert_eq!(rooted.code, 0, "{rooted:?}");
    assert!(
        rooted.stdout.contains("file:///tmp/keyhole-cli-root"),
        "{rooted:?}"
    );
}

#[tokio::test]
async fn a_tool_that_runs_only_as_a_task_is_called_with_task_and_its_input_answered() {
    let everything = ServerEverything::start();
    let cli = Cli::new();
    let url = everything.url.as_str();
    let call = |extra: &'static [&'static str]| {
        let mut args = vec![
            "--url",
            url,
            "--elicit-json",
            r#"{"interpretation": "snake"}"#,
        ];
        args.extend([
            "tools",
            "call",
            "simulate-research-query",
            "--arg",
            "topic=python",
        ]);
        args.extend(extra);
        args
    };

    // A plain call of a task-only tool: the server refuses, and Keyhole says what to add.
    let plain = cli.run(&call(&[])).await;
    assert_ne!(plain.code, 0, "{plain:?}");
    assert!(plain.stderr.contains("--task"), "{plain:?}");

    // As a task: statuses on stderr, the elicitation answered, the report on stdout.
    let tasked = cli.run(&call(&["--arg", "ambiguous=true", "--task"])).await;
    assert_eq!(tasked.code, 0, "{tasked:?}");
    assert!(tasked.stderr.contains(": working"), "{tasked:?}");
    assert!(tasked.stderr.contains("input required"), "{tasked:?}");
    assert!(
        tasked.stdout.contains("Research Report: python (snake)"),
        "{tasked:?}"
    );
}

#[tokio::test]
async fn elicitation_is_asked_field_by_field_on_the_terminal() {
    let everything = ServerEverything::start();
    let cli = Cli::new();
    // Accept, then the second of the server's titled choices.
    let asked = cli
        .run_with_stdin(
            &[
                "--url",
                &everything.url,
                "--elicit-prompt",
                "tools",
                "call",
                "simulate-research-query",
                "--task",
                "--arg",
                "topic=python",
                "--arg",
                "ambiguous=true",
            ],
            "\n2\n",
        )
        .await;
    assert_eq!(asked.code, 0, "{asked:?}");
    assert!(asked.stderr.contains("The server asks:"), "{asked:?}");
    assert!(
        asked.stderr.contains("2) Python snake species [snake]"),
        "{asked:?}"
    );
    assert!(
        asked.stdout.contains("Research Report: python (snake)"),
        "{asked:?}"
    );
}
