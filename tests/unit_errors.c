/* The Kafka error table: names, retriable flags (as the Java client classifies them), lookups
 * by name, and codes outside the table. */
#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "lib/errors.h"

static void test_sample_codes_have_kafka_names_and_retriable_flags(void)
{
    static const struct { int code; const char *name; bool retriable; } cases[] = {
        { KW_EC_UNKNOWN_SERVER_ERROR, "UNKNOWN_SERVER_ERROR", false },
        { KW_EC_NONE, "NONE", false },
        { KW_EC_CORRUPT_MESSAGE, "CORRUPT_MESSAGE", true },
        { KW_EC_NOT_LEADER_OR_FOLLOWER, "NOT_LEADER_OR_FOLLOWER", true },
        { KW_EC_REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT", true },
        { KW_EC_MESSAGE_TOO_LARGE, "MESSAGE_TOO_LARGE", false },
        { KW_EC_NETWORK_EXCEPTION, "NETWORK_EXCEPTION", true },
        { KW_EC_NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS", true },
        { KW_EC_NOT_ENOUGH_REPLICAS_AFTER_APPEND, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true },
        { KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER, "OUT_OF_ORDER_SEQUENCE_NUMBER", false },
        { KW_EC_DUPLICATE_SEQUENCE_NUMBER, "DUPLICATE_SEQUENCE_NUMBER", false },
        { KW_EC_INVALID_PRODUCER_EPOCH, "INVALID_PRODUCER_EPOCH", false },
        { KW_EC_UNKNOWN_PRODUCER_ID, "UNKNOWN_PRODUCER_ID", false },
        { KW_EC_PRODUCER_FENCED, "PRODUCER_FENCED", false },
        { KW_EC_THROTTLING_QUOTA_EXCEEDED, "THROTTLING_QUOTA_EXCEEDED", true },
        { KW_EC_INVALID_REGULAR_EXPRESSION, "INVALID_REGULAR_EXPRESSION", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_STRING_EQUAL(kw_error_name(cases[i].code), cases[i].name);
        CU_ASSERT_EQUAL(kw_error_retriable(cases[i].code), cases[i].retriable);
    }
    CU_ASSERT_EQUAL(KW_EC_CORRUPT_MESSAGE, 2);
    CU_ASSERT_EQUAL(KW_EC_NOT_LEADER_OR_FOLLOWER, 6);
    CU_ASSERT_EQUAL(KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER, 45);
    CU_ASSERT_EQUAL(KW_EC_UNKNOWN_PRODUCER_ID, 59);
    CU_ASSERT_EQUAL(KW_EC_PRODUCER_FENCED, 90);
    CU_ASSERT_EQUAL(KW_EC_MAX, 128);
}

static void test_messages_are_kafkas_default_texts(void)
{
    CU_ASSERT_STRING_EQUAL(kw_error_text(KW_EC_NONE), "");
    CU_ASSERT_STRING_EQUAL(kw_error_text(KW_EC_REQUEST_TIMED_OUT), "The request timed out.");
    CU_ASSERT_STRING_EQUAL(kw_error_text(KW_EC_CORRUPT_MESSAGE),
                           "This message has failed its CRC checksum, exceeds the valid size, "
                           "has a null key for a compacted topic, or is otherwise corrupt.");
    CU_ASSERT_STRING_EQUAL(kw_error_text(KW_EC_UNKNOWN_PRODUCER_ID),
                           "This exception is raised by the broker if it could not locate the "
                           "producer metadata associated with the producerId in question. This "
                           "could happen if, for instance, the producer's records were deleted "
                           "because their retention time had elapsed. Once the last records of "
                           "the producerId are removed, the producer's metadata is removed from "
                           "the broker, and future appends by the producer will return this "
                           "exception.");
}

static void test_every_code_has_a_name_that_maps_back_to_it(void)
{
    int retriable = 0;
    for (int code = KW_EC_MIN; code <= KW_EC_MAX; code++) {
        const char *name = kw_error_name(code);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT(strlen(name) > 0 && strcmp(name, "UNKNOWN") != 0);
        CU_ASSERT_EQUAL(kw_error_by_name(name), code);
        CU_ASSERT_PTR_NOT_NULL(kw_error_text(code));
        CU_ASSERT(code == KW_EC_NONE || strlen(kw_error_text(code)) > 0);
        retriable += kw_error_retriable(code);
    }
    CU_ASSERT_EQUAL(retriable, 31);     /* Kafka's count at the table's commit */
}

static void test_names_match_ignoring_case_and_unknown_names_are_refused(void)
{
    CU_ASSERT_EQUAL(kw_error_by_name("not_leader_or_follower"), KW_EC_NOT_LEADER_OR_FOLLOWER);
    CU_ASSERT_EQUAL(kw_error_by_name("Request_Timed_Out"), KW_EC_REQUEST_TIMED_OUT);
    CU_ASSERT_EQUAL(kw_error_by_name("none"), KW_EC_NONE);
    CU_ASSERT_EQUAL(kw_error_by_name("NOT_LEADER"), KW_ERROR_NOT_FOUND);
    CU_ASSERT_EQUAL(kw_error_by_name("NOT_LEADER_OR_FOLLOWERS"), KW_ERROR_NOT_FOUND);
    CU_ASSERT_EQUAL(kw_error_by_name(""), KW_ERROR_NOT_FOUND);
    CU_ASSERT_EQUAL(kw_error_by_name("UNKNOWN"), KW_ERROR_NOT_FOUND);
    CU_ASSERT_EQUAL(kw_error_by_name(NULL), KW_ERROR_NOT_FOUND);
    CU_ASSERT(KW_ERROR_NOT_FOUND < KW_EC_MIN || KW_ERROR_NOT_FOUND > KW_EC_MAX);
}

static void test_codes_outside_the_table_are_safe(void)
{
    static const int codes[] = { -2, 129, 130, 1000, INT16_MAX, INT16_MIN, INT_MAX, INT_MIN };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        CU_ASSERT_STRING_EQUAL(kw_error_name(codes[i]), "UNKNOWN");
        CU_ASSERT_STRING_EQUAL(kw_error_text(codes[i]), "Unknown error code.");
        CU_ASSERT_FALSE(kw_error_retriable(codes[i]));
    }
}

CU_TestInfo kwt_errors_tests[] = {
    { "sample codes have Kafka's names and retriable flags",
      test_sample_codes_have_kafka_names_and_retriable_flags },
    { "messages are Kafka's default texts", test_messages_are_kafkas_default_texts },
    { "every code from -1 to 128 has a name that maps back to it",
      test_every_code_has_a_name_that_maps_back_to_it },
    { "names match ignoring case and unknown names are refused",
      test_names_match_ignoring_case_and_unknown_names_are_refused },
    { "codes outside the table are safe", test_codes_outside_the_table_are_safe },
    CU_TEST_INFO_NULL,
};
