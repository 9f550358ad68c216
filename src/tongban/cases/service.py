"""前台一口受理、后台协同办理: applications from submission to result.

An application is filed once (online by the applicant, or at the window by a clerk), checked
against the items' materials, accepted once, and then runs its BPMN process: each open user
task is a row in a department's queue. The statutory clock starts at acceptance, stops while the
applicant supplements, and resumes. Approved items issue their electronic licences and write
their results to the base registries through the authoritative department.

This module is the public face of cases for other domains and for ``api`` and ``pages``: it
re-exports what they use. The work is done by concern in ``common``, ``definitions``,
``applications``, ``acceptance``, ``tasks``, ``supplements``, ``deadlines``, ``licences``,
``reminders`` and ``reading``; the BPMN engine is ``cases.bpmn``.
"""

from tongban.cases.common import (  # noqa: F401 (re-exported)
    engine_ms,
)
from tongban.cases.definitions import (  # noqa: F401 (re-exported)
    definitions, load_demo_definitions, _PARSED, SINGLE_ITEM_PROCESS, upload_definition,
)
from tongban.cases.deadlines import (  # noqa: F401 (re-exported)
    deadline, deadlines, remaining_days, task_deadlines,
)
from tongban.cases.applications import (  # noqa: F401 (re-exported)
    attach, items_service_objects, material_list, PLATFORM_ITEMS, prefill, prefill_blank, prefill_for_applicant, request_materials, required_materials, resolve, resolve_for,
    resubmit, situations, subject, Subject, submit, Upload, upload_wanted, wanted,
)
from tongban.cases.tasks import (  # noqa: F401 (re-exported)
    check_task_department, claim, count_queue, decide, queue, task_or_404,
)
from tongban.cases.acceptance import (  # noqa: F401 (re-exported)
    accept, start_processing,
)
from tongban.cases.supplements import (  # noqa: F401 (re-exported)
    supply,
)
from tongban.cases.reminders import (  # noqa: F401 (re-exported)
    send_reminders, send_reminders_job,
)
from tongban.cases.reading import (  # noqa: F401 (re-exported)
    application_or_404, count_window_queue, is_applicant, licences_of, may_read, mine, own_key, select_by_number,
    shared_data, tasks_of, timeline, window_queue,
)
from tongban.cases.licences import (  # noqa: F401 (re-exported)
    check_licence_reader, licence_application, licence_check, licence_or_404, licence_status, masked_holder, revoke,
    STATUS_LABELS as LICENCE_STATUS_LABELS,
)
from tongban.cases.dossier import (  # noqa: F401 (re-exported)
    form_entries, masked_applicant_id, material_choices, material_file, read_case_file,
)
from tongban.cases.progress import progress  # noqa: F401 (re-exported)
from tongban.cases.documents import (  # noqa: F401 (re-exported)
    acceptance_receipt, licence_document, non_acceptance_notice, refusal_decision, result_document_title, result_notice,
)
