"""PLC Bridge's domain and its persistence (SQLAlchemy 2). Knows nothing of Flask or HTTP."""

from models import dashboard, live_figures  # noqa: F401  (the leaders' indexes; the live figures on every session)
from models.agencies import Agency, AgencyKind, AgencyStaff
from models.assessments import Assessment
from models.base import Base
from models.cancellations import Cancellation, CancelledBy
from models.certificates import Certificate, CertificateJob
from models.completions import Completion
from models.corrections import RecordChange
from models.curriculum import CurriculumMapping
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats
from models.database import Database
from models.district import District, Leader, Network, ProgramPlacement, School
from models.drafts import Draft
from models.erasure import PersonErasure
from models.evidence import Evidence
from models.evidence_chunks import EvidenceChunk
from models.exam_results import ExamResult
from models.forms import FormEntry
from models.keys import ToolKey
from models.launch import SpentNonce
from models.line import LineChannel, LineLink, LineLinkCode, LineWebhookEvent
from models.notices import Notice, NoticeDelivery, NoticePreference
from models.observations import Observation
from models.outbox import Delivery, DeliveryState, Destination, OutboxStatement
from models.people import Context, Membership, Person, ResourceLink
from models.plan import PlcRole
from models.plan_versions import PlanVersion
from models.platform import Deployment, Platform
from models.policy import PolicyLeader, Province, ProvinceDistrict
from models.privacy_notice import NoticeAcknowledgement
from models.program_history import ProgramChange, ProgramChangeKind
from models.programs import Program
from models.read_log import ReadLogEntry
from models.reflections import Grade, Reflection
from models.retention import RetentionRun
from models.roles import AppRole, app_role_for
from models.scores import ScorePost, ScoreState
from models.service_tokens import ServiceToken
from models.sessions import AppSession
from models.states import ProgramState
from models.teams import CycleAssignment, Team, TeamMember

__all__ = [
    "Assessment",
    "CompetencyStats",
    "Agency",
    "AgencyKind",
    "AgencyStaff",
    "District",
    "Leader",
    "Network",
    "ProgramPlacement",
    "ProgramStats",
    "ResultStats",
    "School",
    "AppRole",
    "AppSession",
    "Base",
    "Cancellation",
    "CancelledBy",
    "Certificate",
    "CertificateJob",
    "Completion",
    "Context",
    "CurriculumMapping",
    "Cycle",
    "CycleAssignment",
    "Draft",
    "PersonErasure",
    "Database",
    "Delivery",
    "DeliveryState",
    "Destination",
    "Deployment",
    "ElementSession",
    "Evidence",
    "EvidenceChunk",
    "ExamResult",
    "FormEntry",
    "Grade",
    "LineChannel",
    "LineLink",
    "LineLinkCode",
    "LineWebhookEvent",
    "SpentNonce",
    "Membership",
    "Notice",
    "NoticeAcknowledgement",
    "NoticeDelivery",
    "NoticePreference",
    "Observation",
    "OutboxStatement",
    "Person",
    "Platform",
    "PolicyLeader",
    "Province",
    "ProvinceDistrict",
    "PlcRole",
    "PlanVersion",
    "Program",
    "ProgramChange",
    "ProgramChangeKind",
    "ProgramState",
    "RecordChange",
    "ReadLogEntry",
    "Reflection",
    "RetentionRun",
    "ResourceLink",
    "ScorePost",
    "ScoreState",
    "ServiceToken",
    "SessionAttendance",
    "Team",
    "TeamMember",
    "ToolKey",
    "app_role_for",
]
