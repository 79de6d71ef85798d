from django.urls import path

from . import views

app_name = "funding"

urlpatterns = [
    path("", views.home, name="home"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/pdf/", views.request_pdf, name="request-pdf"),
    path("requests/<int:pk>/<str:action>/", views.request_action, name="request-action"),
    path("lines/<int:pk>/bank/", views.line_correct_bank, name="line-bank"),
    path("batches/<int:pk>/xlsx/", views.batch_xlsx, name="batch-xlsx"),
    path("batches/<int:pk>/confirm/", views.batch_confirm, name="batch-confirm"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/proposals/<int:pk>/decide/", views.proposal_decide, name="proposal-decide"),
    path("ledger/entries/<int:pk>/reverse/", views.entry_reverse, name="entry-reverse"),
    path("receivables/", views.receivables, name="receivables"),
    path("receivables/<int:pk>/recover/", views.receivable_recover, name="receivable-recover"),
    path("report/", views.report, name="report"),
    path("report/close/", views.period_close, name="period-close"),
    path("report/pdf/", views.report_pdf, name="report-pdf"),
    path("subsidy/", views.subsidy, name="subsidy"),
    path("subsidy/run/", views.subsidy_run_start, name="subsidy-run"),
    path("subsidy/run/<int:pk>/progress/", views.subsidy_run_progress, name="subsidy-progress"),
    path("imports/<int:pk>/", views.file_import_detail, name="file-import"),
    path("subsidy/<int:year>/tax-list.xlsx", views.tax_list, name="tax-list"),
    path("subsidy/<int:year>/gaps.xlsx", views.gap_list, name="gap-list"),
    path("subsidy/<int:year>/tax-list/confirm/", views.tax_list_confirm, name="tax-list-confirm"),
    path("subsidy/tax-detail/", views.tax_reconciliations, name="tax-reconciliations"),
    path("subsidy/tax-detail/<int:pk>/", views.tax_reconciliation, name="tax-reconciliation"),
    path("subsidy/tax-detail/<int:pk>/export.xlsx", views.tax_reconciliation_export, name="tax-reconciliation-export"),
    path("subsidy/tax-detail/<int:pk>/settle/", views.tax_reconciliation_settle, name="tax-reconciliation-settle"),
    path("subsidy/enrolment/", views.enrolment_edit, name="enrolment-edit"),
    path("subsidy/enrolment/import/", views.enrolment_upload, name="enrolment-import"),
    path("selfpaid/", views.selfpaid, name="selfpaid"),
    path("selfpaid/<int:pk>/decide/", views.selfpaid_decide, name="selfpaid-decide"),
]
