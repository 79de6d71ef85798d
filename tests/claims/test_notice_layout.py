"""The decision notices laid out more cheaply, exactly as before (issue 14, the 2-worker batch at >= 30/s):

- notice_ua.css stands in for WeasyPrint's full html5_ua.css: the pages' content streams and the outline
  are byte for byte those laid out with WeasyPrint's own sheet, and every rule of the notices' two
  stylesheets applies to some element (nothing unused for the cascade to match);
- the signer's block does not wrap: the same pages as when it may;
- a part is laid out with Python's cyclic garbage collector paused, and the collector is on again after it."""

import gc
import io
from datetime import date

import cssselect2
import pytest
import tinycss2
from pypdf import PdfReader

from claims import notices as notices_module
from claims.models import Notice
from claims.notices import CSS_PATH, UA_CSS_PATH, notices_number, render_notices
from claims.services import decision_approve, decision_refuse

pytestmark = pytest.mark.django_db

#: a name longer than the signer's block holds on one line even below the seal area (more than ~28 characters)
LONG_BUREAU = "重庆两江新区（重庆市渝北区、江北区）医疗保障局医疗救助服务中心"
NOTE = "经核查，申请人提交的住院费用发票与医疗机构留存联的金额、日期、项目明细不一致，且未能在规定期限内补正说明。"


@pytest.fixture
def sample(decided_bill, make_person, staff, monkeypatch):
    """Every part of the template: an approval with its explanation and cap line, a refusal whose grounds
    carry a note and a basis (ol, br), a refusal a little longer than a page, a re-decision (its two blocks)."""
    reviewer = staff["reviewer"]
    approval = decision_approve(bill_id=decided_bill(make_person("版式甲", village="桂花社区"), settled_on=date(2025, 10, 12),
                                                     admitted_on=date(2025, 10, 6)).pk, user=reviewer)
    refusal = decision_refuse(bill_id=decided_bill(make_person("版式乙")).pk, user=reviewer, code="PAPERS_NOT_GENUINE",
                              reason=NOTE)
    long_refusal = decision_refuse(bill_id=decided_bill(make_person("版式丙")).pk, user=reviewer,
                                   code="PAPERS_NOT_GENUINE", reason=(NOTE * 20)[:900])
    redecided = decision_approve(bill_id=decided_bill(make_person("版式丁")).pk, user=reviewer)
    ids = [d.pk for d in (approval, refusal, long_refusal, redecided)]
    notices = notices_number(decisions=notices_module._decisions(ids))
    real = notices_module.redecision_context

    def redecision(d, issued_on):  # what a re-decision's notice adds, with a recovery and a top-up both shown
        if d.pk != redecided.pk:
            return real(d, issued_on)
        return {"reason": "医疗机构更正结算数据", "replaces_doc": "渝北医保救助〔2025〕0001号", "replaces_kind": "医疗救助待遇核定通知书",
                "replaces_date": "2025年4月9日", "old_total": d.total, "new_total": d.total, "new_total_capitals": "壹元整",
                "paid_before": d.total, "unpaid_dropped": None, "recovery": d.total, "recovery_capitals": "壹元整",
                "refund_by": "2025年5月9日", "refund_how": "到双龙湖街道便民服务中心或本局服务窗口缴回", "top_up": d.total,
                "top_up_capitals": "壹元整", "top_up_by": "2025年5月31日", "top_up_account": "你登记的银行账户"}

    monkeypatch.setattr(notices_module, "redecision_context", redecision)
    return list(Notice.objects.filter(pk__in=[n.pk for n in notices]).select_related(*notices_module.NOTICE_RELATED)
                .order_by("pk"))


def _streams(pdf: bytes) -> tuple[list[bytes], list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [p.get_contents().get_data() for p in reader.pages], [o.title for o in reader.outline]


def test_the_notices_are_the_same_with_the_notice_user_agent_sheet_as_with_weasyprints_own(sample):
    full = _streams(render_notices(sample, full_ua=True).write_pdf())
    trimmed = _streams(render_notices(sample).write_pdf())
    assert len(full[0]) > len(sample)  # the long refusal runs over to a second page
    assert trimmed == full


def test_the_signer_block_laid_out_without_wrapping_gives_the_same_pages(sample):
    from weasyprint import CSS

    css, fonts = notices_module._weasy()
    html = notices_module.render_to_string("claims/notices.html", {
        "notices": [notices_module.notice_context(n) for n in sample], "bureau": "重庆市渝北区医疗保障局",
        "reconsideration_body": "重庆市渝北区人民政府"})
    wrapping = CSS(string=".signer-block { white-space: normal }", font_config=fonts)
    before = notices_module._notice_html(html).render(stylesheets=[css, wrapping], font_config=fonts).write_pdf()
    assert _streams(render_notices(sample).write_pdf()) == _streams(before)


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def test_a_long_bureau_name_wraps_inside_the_margin_and_a_short_one_stays_on_one_line(sample, settings):
    """The signer's block does not wrap (cheaper to lay out); a bureau's name too long for one line beside the
    seal area would then run past the right margin of a legal document. Its block wraps instead."""

    def signer_lines(bureau):
        settings.YFBZ_BUREAU_NAME = bureau
        page = render_notices(sample[:1]).pages[-1]._page_box
        root = page.children[0]  # the html element's box: the page's area inside its margins
        right = root.position_x + root.margin_width()
        signer = [b for b in _boxes(page) if getattr(b, "element", None) is not None
                  and (b.element.get("class") or "") == "signer" and type(b).__name__ == "BlockBox"]
        assert len(signer) == 1
        texts = [b for b in _boxes(signer[0]) if type(b).__name__ == "TextBox"]
        assert texts, bureau
        return [(t.text, t.position_x + t.width) for t in texts], right

    short, right = signer_lines("重庆市渝北区医疗保障局")
    assert len(short) == 1 and short[0][1] <= right
    wrapped, right = signer_lines(LONG_BUREAU)
    assert len(wrapped) >= 2 and "".join(t for t, _ in wrapped) == LONG_BUREAU
    assert all(end <= right + 0.01 for _, end in wrapped), (wrapped, right)


def _rules(path):
    rules = tinycss2.parse_stylesheet(path.read_text(), skip_comments=True, skip_whitespace=True)
    return [tinycss2.serialize(r.prelude).strip() for r in rules if r.type == "qualified-rule"]


@pytest.mark.parametrize("path", [UA_CSS_PATH, CSS_PATH], ids=["notice_ua.css", "notice.css"])
def test_every_rule_of_the_notice_stylesheets_applies_to_an_element_of_a_notice(sample, path):
    from weasyprint import HTML

    contexts = [notices_module.notice_context(n) for n in sample]
    roots = [  # the default bureau's name, and one long enough for its block to wrap (.wraps)
        cssselect2.ElementWrapper.from_html_root(HTML(string=notices_module.render_to_string("claims/notices.html", {
            "notices": contexts, "bureau": bureau, "reconsideration_body": "重庆市渝北区人民政府"})).etree_element)
        for bureau in ("重庆市渝北区医疗保障局", LONG_BUREAU)]
    unused = []
    for prelude in _rules(path):
        for selector in prelude.split(","):
            selector = selector.split("::")[0].strip() or "li"  # br::before on a br; ::marker on a list item
            if not any(True for root in roots for _ in root.query_all(selector)):
                unused.append(selector)
    assert not unused, f"{path.name}: rules that no element of a notice matches: {unused}"


def test_a_part_is_laid_out_with_the_garbage_collector_paused_and_it_is_on_again_after(sample, monkeypatch):
    seen = []
    real = notices_module.render_notices

    def render(notices):
        seen.append(gc.isenabled())
        return real(notices)

    monkeypatch.setattr(notices_module, "render_notices", render)
    assert gc.isenabled()
    with notices_module._gc_paused():
        notices_module.render_notices(sample[:1]).write_pdf()
    assert seen == [False] and gc.isenabled()
    part = {"batch_id": 0, "notice_ids": [n.pk for n in sample[:1]], "rendered_at": None}
    notices_module._part_render(part, part_id=0, batch_id=0, token="none")  # no batch: stored nowhere
    assert seen == [False, False] and gc.isenabled()
