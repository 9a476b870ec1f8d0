"""The LTI 1.3 and LTI Advantage vocabulary: claim names, message types, service scopes and media types.

Every URI the protocol code reads or writes is spelled here once, under the name the specs use for it
(LTI 1.3 §5.3-5.4, Deep Linking 2.0 §4.4-4.5, AGS 2.0 §3.1, NRPS 2.0 §3.6, Dynamic Registration 1.0 §3.4-3.5).
"""

from __future__ import annotations

from typing import Final

# LTI 1.3 core claims (LTI 1.3 §5.3 and §5.4)
LTI_CLAIM: Final = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE: Final = LTI_CLAIM + "message_type"
VERSION: Final = LTI_CLAIM + "version"
DEPLOYMENT_ID: Final = LTI_CLAIM + "deployment_id"
TARGET_LINK_URI: Final = LTI_CLAIM + "target_link_uri"
ROLES: Final = LTI_CLAIM + "roles"
RESOURCE_LINK: Final = LTI_CLAIM + "resource_link"
CONTEXT: Final = LTI_CLAIM + "context"
CUSTOM: Final = LTI_CLAIM + "custom"
LAUNCH_PRESENTATION: Final = LTI_CLAIM + "launch_presentation"
TOOL_PLATFORM: Final = LTI_CLAIM + "tool_platform"
LIS: Final = LTI_CLAIM + "lis"  # the person's and course's SIS ids (LTI 1.3 §5.4.6)
LTI_EXT: Final = LTI_CLAIM + "ext"  # a platform's own extras; Moodle's holds the user name (user_username)

LTI_VERSION: Final = "1.3.0"

# Message types (LTI 1.3 §5.3.1, Deep Linking 2.0 §4.4 and §4.5)
RESOURCE_LINK_REQUEST: Final = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST: Final = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE: Final = "LtiDeepLinkingResponse"

# Deep Linking 2.0 claims and content item types
DEEP_LINKING_CLAIM: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DEEP_LINKING_SETTINGS: Final = DEEP_LINKING_CLAIM + "deep_linking_settings"
DEEP_LINKING_DATA: Final = DEEP_LINKING_CLAIM + "data"
LTI_RESOURCE_LINK: Final = "ltiResourceLink"

# Assignment and Grade Services 2.0 (AGS §3.1)
AGS_ENDPOINT: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE_LINEITEM: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_TYPE: Final = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_TYPE: Final = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE: Final = "application/vnd.ims.lis.v1.score+json"

# Names and Role Provisioning Services 2.0 (NRPS §3.6)
NAMES_ROLES_SERVICE: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE_MEMBERSHIPS: Final = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_CONTAINER_TYPE: Final = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

# Dynamic Registration 1.0 (LTI-DR §3.4.1 and §3.5.2.1)
PLATFORM_CONFIGURATION: Final = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION: Final = "https://purl.imsglobal.org/spec/lti-tool-configuration"
