/* CreateTopics (key 19), v0-v7, flexible from v5. A topic gives either NumPartitions and
 * ReplicationFactor or, with both -1, a manual Assignments list. From v5 the response echoes
 * the partition count, replication factor and configs the topic was created with; when the
 * configs cannot be returned, TopicConfigErrorCode (tag 0, the only tagged field) says why.
 * v7 adds the topic id. Strings without a "null" default in the spec read as "" when absent,
 * matching Kafka's generated defaults (so a v0 ErrorMessage is "", not null). */
#include "lib/proto/create_topics.h"

#include "lib/proto/codec.h"

#define S struct kw_create_topics_req_assignment
static const struct kw_field assignment_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_PARRAY(S, broker_ids, "BrokerIds", KW_T_I32, 0, KW_VMAX),
};
#undef S
static const struct kw_schema assignment_schema =
    KW_SCHEMA(struct kw_create_topics_req_assignment, "CreatableReplicaAssignment",
              assignment_fields);

#define S struct kw_create_topics_req_config
static const struct kw_field req_config_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, value, "Value", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(0), KW_EMPTY_DEFAULT),
};
#undef S
static const struct kw_schema req_config_schema =
    KW_SCHEMA(struct kw_create_topics_req_config, "CreatableTopicConfig", req_config_fields);

#define S struct kw_create_topics_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, num_partitions, "NumPartitions", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, replication_factor, "ReplicationFactor", KW_T_I16, 0, KW_VMAX),
    KW_ARRAY(S, assignments, "Assignments", assignment_schema, 0, KW_VMAX),
    KW_ARRAY(S, configs, "Configs", req_config_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_create_topics_req_topic, "CreatableTopic", req_topic_fields);

#define S struct kw_create_topics_req
static const struct kw_field req_fields[] = {
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, KW_VMAX),
    KW_FIELD(S, timeout_ms, "timeoutMs", KW_T_I32, 0, KW_VMAX, KW_DEFAULT(60000)),
    KW_FIELD(S, validate_only, "validateOnly", KW_T_BOOL, 1, KW_VMAX),
};
#undef S
const struct kw_schema kw_create_topics_req_schema =
    KW_SCHEMA(struct kw_create_topics_req, "CreateTopicsRequest", req_fields);

#define S struct kw_create_topics_resp_config
static const struct kw_field resp_config_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 5, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, value, "Value", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5), KW_EMPTY_DEFAULT),
    KW_FIELD(S, read_only, "ReadOnly", KW_T_BOOL, 5, KW_VMAX),
    KW_FIELD(S, config_source, "ConfigSource", KW_T_I8, 5, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, is_sensitive, "IsSensitive", KW_T_BOOL, 5, KW_VMAX),
};
#undef S
static const struct kw_schema resp_config_schema =
    KW_SCHEMA(struct kw_create_topics_resp_config, "CreatableTopicConfigs", resp_config_fields);

#define S struct kw_create_topics_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, topic_id, "TopicId", KW_T_UUID, 7, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, error_message, "ErrorMessage", KW_T_STR, 1, KW_VMAX, KW_NULLABLE(0),
             KW_EMPTY_DEFAULT),
    KW_FIELD(S, topic_config_error_code, "TopicConfigErrorCode", KW_T_I16, 5, KW_VMAX,
             KW_TAGGED(0, 5)),
    KW_FIELD(S, num_partitions, "NumPartitions", KW_T_I32, 5, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, replication_factor, "ReplicationFactor", KW_T_I16, 5, KW_VMAX, KW_DEFAULT(-1)),
    KW_ARRAY(S, configs, "Configs", resp_config_schema, 5, KW_VMAX, KW_NULLABLE(5)),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_create_topics_resp_topic, "CreatableTopicResult", resp_topic_fields);

#define S struct kw_create_topics_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 2, KW_VMAX),
    KW_ARRAY(S, topics, "Topics", resp_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_create_topics_resp_schema =
    KW_SCHEMA(struct kw_create_topics_resp, "CreateTopicsResponse", resp_fields);

KW_CODEC(create_topics, KW_API_CREATE_TOPICS)
