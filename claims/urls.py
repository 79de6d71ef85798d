from django.urls import path

from . import views

app_name = "claims"
urlpatterns = [
    path("", views.bill_list, name="bill-list"),
    path("export.xlsx", views.bill_export, name="bill-export"),
    path("bills/new/", views.bill_new, name="bill-new"),
    path("bills/person/", views.bill_person_card, name="bill-person"),
    path("bills/<int:pk>/", views.bill_detail, name="bill-detail"),
    path("bills/<int:pk>/edit/", views.bill_edit, name="bill-edit"),
    path("bills/<int:pk>/approve/", views.bill_approve, name="bill-approve"),
    path("bills/<int:pk>/refuse/", views.bill_refuse, name="bill-refuse"),
    path("bills/<int:pk>/return/", views.bill_send_back, name="bill-return"),
    path("bills/<int:pk>/redecide/", views.bill_redecide, name="bill-redecide"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("decisions/<int:pk>/notice.pdf", views.notice_pdf, name="notice-pdf"),  # old links: to notice-print
    path("decisions/<int:pk>/notice/", views.notice_print, name="notice-print"),
    path("notices/batch/", views.notice_batch_new, name="notice-batch-new"),
    path("notices/batch/<int:pk>/", views.notice_batch_detail, name="notice-batch"),
    path("notices/batch/<int:pk>/progress.json", views.notice_batch_progress, name="notice-batch-progress"),
    path("notices/batches/", views.notice_batch_list, name="notice-batches"),
    path("settlements/", views.settlement_list, name="settlement-list"),
    path("settlements/export.xlsx", views.settlement_export, name="settlement-export"),
    path("settlements/identities/", views.settlement_identities, name="settlement-identities"),
    path("settlements/<int:pk>/", views.settlement_month, name="settlement-month"),
    path("settlements/platform/<int:pk>/split/", views.platform_split, name="platform-split"),
    path("settlements/<int:pk>/confirm/", views.settlement_confirm, name="settlement-confirm"),
    path("settlements/<int:pk>/reopen/", views.settlement_reopen, name="settlement-reopen"),
    path("settlement-lines/<int:pk>/resolve/", views.settlement_resolve, name="settlement-resolve"),
    path("retroactive/<int:pk>/", views.retroactive_detail, name="retroactive-detail"),
]
