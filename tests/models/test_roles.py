"""LIS roles → app roles (LTI 1.3 §A.2)."""

import pytest

from models.roles import AppRole, administers_the_site, app_role_for

CTX = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYS = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([CTX + "Learner"], AppRole.TEACHER),
        ([CTX + "Instructor"], AppRole.TRAINER),
        ([CTX + "TeachingAssistant"], AppRole.TRAINER),
        ([CTX + "ContentDeveloper"], AppRole.TRAINER),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], AppRole.TRAINER),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Learner"], AppRole.TEACHER),
        ([CTX + "Administrator"], AppRole.ADMIN),
        ([INST + "Administrator", CTX + "Instructor"], AppRole.ADMIN),
        ([SYS + "Administrator"], AppRole.ADMIN),
        ([CTX + "Learner", CTX + "Instructor"], AppRole.TRAINER),
        (["Learner"], AppRole.TEACHER),  # LTI 1.3 §A.2.3.1 simple names
    ],
)
def test_lis_roles_map_to_app_roles(roles: list[str], expected: AppRole) -> None:
    assert app_role_for(roles) is expected


@pytest.mark.parametrize(
    "roles",
    [[], [CTX + "Mentor"], [INST + "Student"], ["urn:example:Learner"], ["http://example.org/roles#Instructor"]],
)
def test_roles_that_give_no_access_map_to_nothing(roles: list[str]) -> None:
    assert app_role_for(roles) is None


def test_only_teachers_are_kept_from_the_course_roster() -> None:
    assert not AppRole.TEACHER.sees_course_roster
    assert AppRole.TRAINER.sees_course_roster and AppRole.ADMIN.sees_course_roster


@pytest.mark.parametrize(
    ("roles", "site"),
    [
        ([SYS + "Administrator", INST + "Administrator", CTX + "Instructor"], True),  # Moodle's site admin
        ([SYS + "SysAdmin"], True),
        ([INST + "Administrator", CTX + "Instructor"], False),  # a school's administrator
        ([CTX + "Administrator"], False),
        (["Administrator"], False),  # a simple name is a context role (LTI 1.3 §A.2.3.1)
        ([SYS + "User", CTX + "Learner"], False),
        ([], False),
    ],
)
def test_only_a_system_administrator_is_the_site_administrator(roles: list[str], site: bool) -> None:
    assert administers_the_site(roles) is site
