/* mockbroker grade: the verdict for commands that fail to run or hang, and for the hand-written
 * producer of fixtures/grade/rawproducer.py, correct and deliberately broken (dropping messages,
 * retrying without idempotence, reusing sequence numbers, reordering, hiding refusals, retrying
 * without backoff). Broken modes run twice: the verdict class must not change. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mockbroker/mockbroker.h"

#define RAW "fixtures/grade/rawproducer.py"

static const char clean[] =
    "{\"seed\": 7, \"brokers\": 1, \"topics\": [{\"name\": \"g\", \"partitions\": 1}],"
    " \"workload\": {\"topic\": \"g\", \"partition\": 0, \"messages\": 200,"
    " \"timeout_ms\": 10000}}";

/* Leader alone, min.insync.replicas 2: every acks=all append is refused (retriable). */
static const char refusing[] =
    "{\"seed\": 3, \"brokers\": 2, \"topics\": [{\"name\": \"r\", \"partitions\": 1,"
    " \"replication\": 2, \"configs\": {\"min.insync.replicas\": 2}}],"
    " \"actions\": [{\"type\": \"leader_move\", \"topic\": \"r\", \"partition\": 0, \"broker\": 1},"
    " {\"type\": \"follower\", \"broker\": 2, \"topic\": \"r\", \"mode\": \"stopped\"},"
    " {\"type\": \"isr_set\", \"topic\": \"r\", \"partition\": 0, \"brokers\": [1]}],"
    " \"workload\": {\"topic\": \"r\", \"partition\": 0, \"messages\": 20, \"timeout_ms\": 10000}}";

/* The first three Produce requests are refused with a retriable error, then all is well. */
static const char transient[] =
    "{\"seed\": 5, \"brokers\": 1, \"topics\": [{\"name\": \"t\", \"partitions\": 1}],"
    " \"rules\": [{\"name\": \"refuse\", \"match\": {\"api_key\": \"Produce\"},"
    " \"action\": {\"type\": \"error\", \"error_code\": \"NOT_ENOUGH_REPLICAS\"},"
    " \"count\": 3}],"
    " \"workload\": {\"topic\": \"t\", \"partition\": 0, \"messages\": 50,"
    " \"timeout_ms\": 10000}}";

/* Grades argv under the scenario text; the verdict, or -1 if grading itself failed. */
static int grade(const char *json, char *const *argv, int64_t backoff_min, int64_t backoff_max,
                 int64_t timeout_ms, struct mb_grade_result *keep)
{
    char err[512];
    struct mb_scenario *s = mb_scenario_parse(json, strlen(json), NULL, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    struct mb_grade_opts o;
    mb_grade_opts_init(&o);
    o.argv = argv;
    o.backoff_min_ms = backoff_min;
    o.backoff_max_ms = backoff_max;
    o.timeout_ms = timeout_ms;
    struct mb_grade_result r;
    int v = mb_grade_run(s, &o, &r, err, sizeof(err)) == 0 ? (int)r.verdict : -1;
    if (v < 0)
        fprintf(stderr, "grade: %s\n", err);
    else if (keep)
        *keep = r;
    else
        mb_grade_result_release(&r);
    mb_scenario_destroy(s);
    return v;
}

/* The raw producer in MODE under the scenario, twice; the verdict if both runs agree, else -2. */
static int raw_twice(const char *json, const char *mode, int64_t bmin, int64_t bmax)
{
    char *argv[] = { "/usr/bin/python3", RAW, (char *)mode, NULL };
    int a = grade(json, argv, bmin, bmax, 20000, NULL);
    int b = grade(json, argv, bmin, bmax, 20000, NULL);
    if (a != b)
        fprintf(stderr, "rawproducer %s: %s then %s\n", mode, mb_verdict_name(a),
                mb_verdict_name(b));
    return a == b ? a : -2;
}

static void test_verdict_names_parse_back(void)
{
    for (int v = 0; v < MB_VERDICTS; v++)
        CU_ASSERT_EQUAL(mb_verdict_parse(mb_verdict_name(v)), v);
    CU_ASSERT_EQUAL(mb_verdict_parse("pass"), -1);
    CU_ASSERT_STRING_EQUAL(mb_verdict_name(MB_VERDICTS), "?");
}

static void test_a_command_that_cannot_start_is_an_error_verdict(void)
{
    char *argv[] = { "/nonexistent/producer", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 5000, &r), MB_VERDICT_ERROR);
    /* posix_spawn reports the failed exec, or (under valgrind, which emulates its vfork as a
     * fork) the child exits 127 as a shell would. */
    CU_ASSERT(strstr(r.reason, "/nonexistent/producer") != NULL || r.exit_status == 127);
    mb_grade_result_release(&r);
}

static void test_a_command_that_sends_nothing_and_fails_is_an_error_verdict(void)
{
    char *argv[] = { "/bin/sh", "-c", "echo no broker at $KAFKA_BOOTSTRAP; exit 3", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 5000, &r), MB_VERDICT_ERROR);
    CU_ASSERT_EQUAL(r.exit_status, 3);
    CU_ASSERT(r.output != NULL && strstr(r.output, "no broker at 127.0.0.1:") != NULL);
    mb_grade_result_release(&r);
}

static void test_a_command_that_claims_success_without_sending_loses_everything(void)
{
    char *argv[] = { "/bin/sh", "-c", "echo delivered=$MESSAGE_COUNT failed=0", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 5000, &r), MB_VERDICT_LOSS);
    CU_ASSERT_EQUAL(r.missing, 200);
    CU_ASSERT_EQUAL(r.reported_delivered, 200);
    CU_ASSERT_EQUAL(r.reported_failed, 0);
    mb_grade_result_release(&r);
}

static void test_a_hanging_command_is_killed_at_its_time_limit(void)
{
    char *argv[] = { "/bin/sh", "-c", "while :; do :; done", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 300, &r), MB_VERDICT_TIMEOUT);
    CU_ASSERT(r.timed_out);
    CU_ASSERT(r.elapsed_ms >= 300 && r.elapsed_ms < 5000);
    mb_grade_result_release(&r);
}

static void test_arguments_get_the_bootstrap_topic_and_count(void)
{
    char *argv[] = { "/bin/sh", "-c", "echo \"$1 $2 $3 $KAFKA_TOPIC $MESSAGE_COUNT $KAFKA_SEED\"",
                     "sh", "{topic}", "{count}", "{partition}", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 5000, &r), MB_VERDICT_LOSS);
    CU_ASSERT(r.output != NULL && strstr(r.output, "g 200 0 g 200 7") != NULL);
    mb_grade_result_release(&r);
}

static void test_a_correct_idempotent_producer_passes(void)
{
    CU_ASSERT_EQUAL(raw_twice(clean, "good", -1, -1), MB_VERDICT_PASS);
}

static void test_dropping_every_100th_message_is_loss(void)
{
    char *argv[] = { "/usr/bin/python3", RAW, "drop", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 20000, &r), MB_VERDICT_LOSS);
    CU_ASSERT_EQUAL(r.missing, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "the first: 99"));
    mb_grade_result_release(&r);
    CU_ASSERT_EQUAL(raw_twice(clean, "drop", -1, -1), MB_VERDICT_LOSS);
}

static void test_retrying_without_idempotence_is_duplicates(void)
{
    CU_ASSERT_EQUAL(raw_twice(clean, "dup", -1, -1), MB_VERDICT_DUPLICATES);
}

static void test_reusing_sequence_numbers_is_bad_sequence(void)
{
    char *argv[] = { "/usr/bin/python3", RAW, "reuse_seq", NULL };
    struct mb_grade_result r;
    CU_ASSERT_EQUAL(grade(clean, argv, -1, -1, 20000, &r), MB_VERDICT_BAD_SEQUENCE);
    CU_ASSERT(r.missing > 0);
    CU_ASSERT(r.retries > 0);
    CU_ASSERT(r.evidence != NULL &&
              strstr(r.evidence, "duplicate of an earlier batch") != NULL);
    mb_grade_result_release(&r);
    CU_ASSERT_EQUAL(raw_twice(clean, "reuse_seq", -1, -1), MB_VERDICT_BAD_SEQUENCE);
}

static void test_sending_batches_out_of_order_is_reordered(void)
{
    CU_ASSERT_EQUAL(raw_twice(clean, "reorder", -1, -1), MB_VERDICT_REORDERED);
}

static void test_refusals_reported_as_failures_are_reported_failure(void)
{
    CU_ASSERT_EQUAL(raw_twice(refusing, "good", -1, -1), MB_VERDICT_REPORTED_FAILURE);
}

static void test_refusals_hidden_behind_exit_0_are_unreported_failure(void)
{
    struct mb_grade_result r;
    char *argv[] = { "/usr/bin/python3", RAW, "liar", NULL };
    CU_ASSERT_EQUAL(grade(refusing, argv, -1, -1, 20000, &r), MB_VERDICT_UNREPORTED_FAILURE);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "NOT_ENOUGH_REPLICAS"));
    CU_ASSERT(r.evidence != NULL && strstr(r.evidence, "broker refused the append") != NULL);
    mb_grade_result_release(&r);
    CU_ASSERT_EQUAL(raw_twice(refusing, "liar", -1, -1), MB_VERDICT_UNREPORTED_FAILURE);
}

static void test_retries_without_a_pause_break_the_backoff_bounds(void)
{
    CU_ASSERT_EQUAL(raw_twice(transient, "hammer", 100, 1000), MB_VERDICT_BAD_BACKOFF);
    /* Without --backoff the pause is not judged. */
    CU_ASSERT_EQUAL(raw_twice(transient, "hammer", -1, -1), MB_VERDICT_PASS);
}

static void test_retries_200_ms_apart_keep_within_the_backoff_bounds(void)
{
    struct mb_grade_result r;
    char *argv[] = { "/usr/bin/python3", RAW, "polite", NULL };
    CU_ASSERT_EQUAL(grade(transient, argv, 100, 1000, 20000, &r), MB_VERDICT_PASS);
    CU_ASSERT_EQUAL(r.backoffs, 3);
    CU_ASSERT(r.backoff_min_seen_ms >= 150 && r.backoff_max_seen_ms <= 1000);
    mb_grade_result_release(&r);
}

CU_TestInfo kwt_grade_tests[] = {
    { "verdict names parse back", test_verdict_names_parse_back },
    { "a command that cannot start is an ERROR verdict",
      test_a_command_that_cannot_start_is_an_error_verdict },
    { "a command that sends nothing and fails is an ERROR verdict",
      test_a_command_that_sends_nothing_and_fails_is_an_error_verdict },
    { "a command that claims success without sending loses everything",
      test_a_command_that_claims_success_without_sending_loses_everything },
    { "a hanging command is killed at its time limit",
      test_a_hanging_command_is_killed_at_its_time_limit },
    { "arguments get the bootstrap, topic and count",
      test_arguments_get_the_bootstrap_topic_and_count },
    { "a correct idempotent producer passes", test_a_correct_idempotent_producer_passes },
    { "dropping every 100th message is LOSS", test_dropping_every_100th_message_is_loss },
    { "retrying without idempotence is DUPLICATES",
      test_retrying_without_idempotence_is_duplicates },
    { "reusing sequence numbers is BAD_SEQUENCE", test_reusing_sequence_numbers_is_bad_sequence },
    { "sending batches out of order is REORDERED", test_sending_batches_out_of_order_is_reordered },
    { "refusals reported as failures are REPORTED_FAILURE",
      test_refusals_reported_as_failures_are_reported_failure },
    { "refusals hidden behind exit 0 are UNREPORTED_FAILURE",
      test_refusals_hidden_behind_exit_0_are_unreported_failure },
    { "retries without a pause break the backoff bounds",
      test_retries_without_a_pause_break_the_backoff_bounds },
    { "retries 200 ms apart keep within the backoff bounds",
      test_retries_200_ms_apart_keep_within_the_backoff_bounds },
    CU_TEST_INFO_NULL,
};
