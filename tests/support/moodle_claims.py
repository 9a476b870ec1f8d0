"""Launch shapes exactly as Moodle 4.x sends them, for tests that need more than the test platform's defaults.

From mod/lti/locallib.php (lti_get_jwt_claim_mapping, lti_build_request_lti13, lti_build_custom_parameters) and
mod/lti/auth.php:
- `sub` is the Moodle user id and `deployment_id` the tool type id, both as strings;
- `tool_platform` carries `family_code` (Moodle's name for tool_consumer_info_product_family_code), not
  `product_family_code`, and `version` is $CFG->version;
- `lis` has `person_sourcedid` (the user's ID number, often empty) and `course_section_sourcedid` (the course's);
- parameters that map to no claim and start with `ext_` go into the `ext` claim (`user_username`, `lms`);
- custom parameters keep their names (lower case, as lti_map_keyname leaves `plc_activity`) and their values are
  strings; a substitution Moodle does not know (e.g. `$ResourceLink.id.history`) is sent unreplaced;
- roles of a site administrator: institution Administrator, membership Instructor and system Administrator;
- `lti_message_hint` at login is JSON with the course module id (`cmid`, 0 for Deep Linking) and a launch id.

`moodle_shape(...)` returns a token hook for TestPlatform.set_token_hook: the launch's own iss, aud, nonce and
times stay, everything Moodle decides is rewritten as Moodle writes it, and the result is signed by the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from tests.support.lti_platform import TestPlatform

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

MOODLE_ROLES = {
    "student": [MEMBERSHIP + "Learner"],
    "editingteacher": [MEMBERSHIP + "Instructor"],
    "teacher": [
        MEMBERSHIP + "Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
    ],
    "siteadmin": [INSTITUTION + "Administrator", MEMBERSHIP + "Instructor", SYSTEM + "Administrator"],
}


def moodle_claims(
    platform: TestPlatform,
    *,
    user_id: str = "5",
    role: str = "student",
    course_id: str = "2",
    course_shortname: str = "PLC-SCI-M2",
    course_fullname: str = "PLC วิทยาศาสตร์ ม.2",
    instance_id: str = "12",
    activity_name: str = "วงรอบ PLC ที่ 1",
    custom: Mapping[str, str] | None = None,
    given_name: str = "สมศรี",
    family_name: str = "ใจดี",
    email: str = "somsri@school.ac.th",
    username: str = "somsri.j",
    idnumber: str = "",
    locale: str = "th",
) -> dict[str, Any]:
    """The claims Moodle decides for a resource link launch (everything but iss, aud, azp, nonce, iat, exp)."""
    return_query = urlencode(
        {"course": course_id, "launch_container": 3, "instanceid": instance_id, "sesskey": "aB3dE5fG7h"}
    )
    base = platform.issuer
    return {
        "sub": user_id,
        "given_name": given_name,
        "family_name": family_name,
        "name": f"{given_name} {family_name}",
        "email": email,
        LTI + "deployment_id": platform.deployment_id,
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "roles": list(MOODLE_ROLES[role]),
        LTI + "resource_link": {"title": activity_name, "description": "", "id": instance_id},
        LTI + "context": {
            "id": course_id,
            "label": course_shortname,
            "title": course_fullname,
            "type": ["CourseSection"],
        },
        LTI + "lis": {"person_sourcedid": idnumber, "course_section_sourcedid": ""},
        LTI + "launch_presentation": {
            "locale": locale,
            "document_target": "iframe",
            "return_url": f"{base}/mod/lti/return.php?{return_query}",
        },
        LTI + "tool_platform": {
            "family_code": "moodle",
            "version": "2024100700",
            "guid": platform.host,
            "name": "โรงเรียนบ้านหนองบัว",
            "description": "Moodle ของเขตพื้นที่การศึกษา",
        },
        LTI + "custom": dict(custom or {}),
        LTI + "ext": {"user_username": username, "lms": "moodle-2"},
        AGS: {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": f"{base}/mod/lti/services.php/{course_id}/lineitems?type_id={platform.deployment_id}",
            "lineitem": f"{base}/mod/lti/services.php/{course_id}/lineitems/{instance_id}/lineitem?type_id={platform.deployment_id}",
        },
        NRPS: {
            "context_memberships_url": f"{base}/mod/lti/services.php/CourseSection/{course_id}/bindings/{platform.deployment_id}/memberships",
            "service_versions": ["1.0", "2.0"],
        },
    }


KEPT = ("iss", "aud", "azp", "nonce", "iat", "exp", LTI + "target_link_uri")


def moodle_shape(platform: TestPlatform, **shape: Any) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """A token hook that sends `moodle_claims(platform, **shape)` with the launch's own security claims."""

    def hook(claims: dict[str, Any], header: dict[str, Any]) -> str:
        body = {name: claims[name] for name in KEPT if name in claims}
        body.update(moodle_claims(platform, **shape))
        platform.last_launch_claims = dict(body)
        return platform.sign(body, headers=header)

    return hook
