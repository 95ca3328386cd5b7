/* DeleteTopics (key 20), v0-v6, flexible from v4. The request names its topics in TopicNames,
 * a plain string array, up to v5; v6 replaces it with Topics, where each entry gives a name or
 * (name null) a topic id. Nothing is tagged. The two lists never share a version, so a caller
 * fills the one its version has; the other is dropped by the encoder. Strings without a "null"
 * default in the spec read as "" when absent, matching Kafka's generated defaults. */
#include "lib/proto/delete_topics.h"

#include "lib/proto/codec.h"

#define S struct kw_delete_topics_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 6, KW_VMAX, KW_NULLABLE(6)),
    KW_FIELD(S, topic_id, "TopicId", KW_T_UUID, 6, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_delete_topics_req_topic, "DeleteTopicState", req_topic_fields);

#define S struct kw_delete_topics_req
static const struct kw_field req_fields[] = {
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 6, KW_VMAX),
    KW_PARRAY(S, topic_names, "TopicNames", KW_T_STR, 0, 5),
    KW_FIELD(S, timeout_ms, "TimeoutMs", KW_T_I32, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_delete_topics_req_schema =
    KW_SCHEMA(struct kw_delete_topics_req, "DeleteTopicsRequest", req_fields);

#define S struct kw_delete_topics_resp_result
static const struct kw_field result_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(6), KW_EMPTY_DEFAULT),
    KW_FIELD(S, topic_id, "TopicId", KW_T_UUID, 6, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, error_message, "ErrorMessage", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
};
#undef S
static const struct kw_schema result_schema =
    KW_SCHEMA(struct kw_delete_topics_resp_result, "DeletableTopicResult", result_fields);

#define S struct kw_delete_topics_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_ARRAY(S, responses, "Responses", result_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_delete_topics_resp_schema =
    KW_SCHEMA(struct kw_delete_topics_resp, "DeleteTopicsResponse", resp_fields);

KW_CODEC(delete_topics, KW_API_DELETE_TOPICS)
