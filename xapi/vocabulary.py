"""The IRIs PLC Bridge uses in xAPI statements. Every one is named in config/xapi/profile.jsonld.

ADL and other registered IRIs are reused where their meaning fits; the rest are minted under the profile's
IRI. IRIs are identifiers, never fetched by the tool; the profile document is served at /xapi/profile.
"""

from __future__ import annotations

PROFILE = "https://w3id.org/xapi/plc-bridge"
PROFILE_VERSION = PROFILE + "/v1.0"
_MINT = PROFILE + "/"


class Verb:
    LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
    ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
    TAUGHT = _MINT + "verbs/taught"
    OBSERVED = _MINT + "verbs/observed"
    SUBMITTED = _MINT + "verbs/submitted"
    SCORED = "http://adlnet.gov/expapi/verbs/scored"
    COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
    EARNED = "http://id.tincanapi.com/verb/earned"
    VOIDED = "http://adlnet.gov/expapi/verbs/voided"
    ASSESSED = _MINT + "verbs/assessed"


VERB_DISPLAY: dict[str, dict[str, str]] = {
    Verb.LAUNCHED: {"en": "launched", "th": "เปิดใช้งาน"},
    Verb.ATTENDED: {"en": "attended", "th": "เข้าร่วม"},
    Verb.TAUGHT: {"en": "taught", "th": "สอน"},
    Verb.OBSERVED: {"en": "observed", "th": "สังเกตชั้นเรียน"},
    Verb.SUBMITTED: {"en": "submitted", "th": "ส่ง"},
    Verb.SCORED: {"en": "scored", "th": "ได้คะแนน"},
    Verb.COMPLETED: {"en": "completed", "th": "ทำสำเร็จ"},
    Verb.EARNED: {"en": "earned", "th": "ได้รับ"},
    Verb.VOIDED: {"en": "voided", "th": "ยกเลิก"},
    Verb.ASSESSED: {"en": "assessed", "th": "ประเมินสมรรถนะ"},
}


class ActivityType:
    TOOL = _MINT + "activity-types/tool-placement"
    COURSE = "http://adlnet.gov/expapi/activities/course"
    PROGRAM = _MINT + "activity-types/plc-program"
    TEAM = _MINT + "activity-types/plc-team"
    CYCLE = _MINT + "activity-types/plc-cycle"
    ELEMENT = _MINT + "activity-types/plc-element"
    SESSION = "http://adlnet.gov/expapi/activities/meeting"
    LESSON = "http://adlnet.gov/expapi/activities/lesson"
    OBSERVATION = _MINT + "activity-types/buddy-observation"
    REFLECTION = _MINT + "activity-types/reflection"
    CERTIFICATE = _MINT + "activity-types/certificate"
    COMPETENCY = _MINT + "activity-types/competency"
    PROFILE = "http://adlnet.gov/expapi/activities/profile"


class Extension:
    CYCLE_NUMBER = _MINT + "extensions/cycle-number"
    ELEMENT_NUMBER = _MINT + "extensions/element-number"
    PLC_ROLE = _MINT + "extensions/plc-role"
    HOURS = _MINT + "extensions/hours"
    APP_ROLE = _MINT + "extensions/app-role"
    LEARNING_AREA = _MINT + "extensions/learning-area"
    GRADE_LEVEL = _MINT + "extensions/grade-level"
    ASSESSMENT_PHASE = _MINT + "extensions/assessment-phase"
    RATER = _MINT + "extensions/rater"
    SCALE = _MINT + "extensions/assessment-scale"


def competency_iri(code: str) -> str:
    return f"{PROFILE}/competencies/{code}"
