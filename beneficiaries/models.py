"""Reference data (towns, departments, identity categories and their wordings), people, identities,
and the monthly roster uploads that start and end identities (docs/rosters.md)."""


from django.conf import settings
from django.db import models

from yfbz.core.bytes import BytesDeferredModel
from yfbz.core.jobs import JobSpec
from yfbz.core.jobs import register as register_job
from yfbz.core.scoping import ScopedManager
from yfbz.core.workflow import NEW, StatusHistory


class Town(models.Model):
    """镇街 of the district. Loaded from yfbz/reference/towns.csv by migration 0002; editable."""

    code = models.CharField("代码", max_length=10, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    kind = models.CharField("类型", max_length=4, choices=[("街道", "街道"), ("镇", "镇")])
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "镇街"
        verbose_name_plural = "镇街"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        """双龙湖街道 → 双龙湖, 统景镇 → 统景 (rosters write either)."""
        for suffix in ("街道", "镇"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


class Department(models.Model):
    """A certifying department (认定部门) that sends a monthly roster."""

    code = models.CharField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=30)

    class Meta:
        verbose_name = "认定部门"
        verbose_name_plural = "认定部门"
        ordering = ["id"]

    def __str__(self):
        return self.name


class Category(models.Model):
    """An identity category (身份类别) of POLICY.md §2. Benefit groups are policy data (yfbz.policy)."""

    code = models.CharField("代码", max_length=30, unique=True)
    name = models.CharField("类别名称", max_length=80)
    department = models.ForeignKey(Department, verbose_name="认定部门", on_delete=models.PROTECT, related_name="categories")
    youfu = models.BooleanField("优抚对象", default=False, help_text="渝退役军人局〔2022〕52号 第二条所称优抚对象，可享受优抚对象医疗补助")

    class Meta:
        verbose_name = "身份类别"
        verbose_name_plural = "身份类别"
        ordering = ["id"]

    def __str__(self):
        return self.name

    @classmethod
    def name_of(cls, code: str | None) -> str:
        """A category's name for a code kept on a record (a decision, a line, an engine snapshot): never the code
        itself on a page or a document while the category exists (the names read once per request,
        yfbz.core.memo)."""
        from yfbz.core.display import EMPTY
        from yfbz.core.memo import remembered

        if not code:
            return EMPTY
        return remembered("category-names", lambda: dict(cls.objects.values_list("code", "name"))).get(code, code)


class CategoryAlias(models.Model):
    """A department's own wording of a category (e.g. 城市低保 → DIBAO). Editable: an unknown
    wording in a roster is a row error until an administrator adds it here."""

    wording = models.CharField("名单中的写法", max_length=80)
    department = models.ForeignKey(Department, verbose_name="部门", on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name="身份类别", on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        verbose_name = "类别写法"
        verbose_name_plural = "类别写法"
        constraints = [models.UniqueConstraint(fields=["department", "wording"], name="alias_unique_per_department")]

    def __str__(self):
        return f"{self.wording} → {self.category.code}"


class Person(models.Model):
    """One record per resident ID number."""

    SEX_CHOICES = [("M", "男"), ("F", "女")]

    # unique through Meta.constraints, not unique=True: on PostgreSQL that would add a second, LIKE-pattern
    # index nobody uses, and every index costs on every person a roster registers
    id_number = models.CharField("公民身份号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    birth_date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=1, choices=SEX_CHOICES)
    # no database constraint (issue 14): PostgreSQL would check this reference once per person at the commit
    # of a roster that registers 100,000 people (~0.5 s); a town is taken from the Town table by whoever
    # writes it, towns are never deleted (they become inactive), and Django's PROTECT still refuses it
    town = models.ForeignKey(
        Town, verbose_name="所属镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="people",
        db_index=False,  # the (town, name) index serves every lookup by town
        db_constraint=False,
    )
    village = models.CharField("村（社区）", max_length=60, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "identities__category__department"
        person = "pk"

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        indexes = [
            models.Index(fields=["town", "name", "id"], name="person_list_order"),  # the people list's order
            # name search from the first character (LIKE '张%') whatever the database's collation
            models.Index(fields=["name"], name="person_name_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [models.UniqueConstraint(fields=["id_number"], name="person_id_number_unique")]

    def __str__(self):
        return f"{self.name}（{self.masked_id_number}）"

    @property
    def masked_id_number(self) -> str:
        """Lists show 500112********0436; the full number is shown on request and the view is audited."""
        from yfbz.core.pii import mask

        return mask(self.id_number)

    @property
    def masked_phone(self) -> str:
        from yfbz.core.pii import mask

        return mask(self.phone)


class Identity(models.Model):
    """One identity of a person: a category certified by a department, valid from/to (to = open while certified).

    ``source`` says what made it: a confirmed monthly roster (``started_by``), a confirmed correction
    outside a roster (a department's mistake, an appeal; ``source_ref`` names the correction), or the
    old system's records brought in when the bureau adopted the product (``load_history``)."""

    class Source(models.TextChoices):
        ROSTER = "ROSTER", "月度名单"
        CORRECTION = "CORRECTION", "名单外更正"
        MIGRATED = "MIGRATED", "原系统迁移"

    # single-column indexes left out: (person, category) and (category, valid_to) below serve them
    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="identities", db_index=False)
    category = models.ForeignKey(
        Category, verbose_name="身份类别", on_delete=models.PROTECT, related_name="identities", db_index=False
    )
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("终止日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    # no index of their own: rosters write identities in bulk and nothing searches by upload at scale
    # audit links without a database constraint (Django's PROTECT still guards deletes): PostgreSQL
    # checks every foreign key of every row a roster writes at commit (issue 14)
    started_by = models.ForeignKey(
        "RosterUpload", verbose_name="起始名单", null=True, blank=True, on_delete=models.PROTECT,
        related_name="started_identities", db_index=False, db_constraint=False,
    )
    ended_by = models.ForeignKey(
        "RosterUpload", verbose_name="终止名单", null=True, blank=True, on_delete=models.PROTECT,
        related_name="ended_identities", db_index=False, db_constraint=False,
    )
    # db_default: rosters write identities with COPY and leave this column out
    source = models.CharField("来源", max_length=12, choices=Source.choices, default=Source.ROSTER, db_default=Source.ROSTER)
    source_ref = models.CharField("来源说明", max_length=120, blank=True, default="", db_default="",
                                  help_text="更正单号或迁移文件等")

    objects = ScopedManager()

    class Scoping:
        town = "person__town"
        department = "category__department"
        person = "person"

    class Meta:
        verbose_name = "身份"
        verbose_name_plural = "身份"
        ordering = ["person_id", "valid_from"]
        indexes = [models.Index(fields=["person", "category"]), models.Index(fields=["category", "valid_to"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="identity_to_not_before_from",
            )
        ]

    def __str__(self):
        return f"{self.person.name} {self.category.name} {self.valid_from}～{self.valid_to or '至今'}"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class PersonTown(models.Model):
    """The town a person lived in between two dates, as a roster or a correction gave it
    (docs/areas.md). A person's spans never overlap; the open one is the town on ``Person.town``.
    A person's first span starts at the beginning (1900-01-01: nothing earlier is known), so a
    bill settled before the person was registered still has a town. The town on a date is one
    indexed lookup (person, valid_from), and bulk paths read every span of a chunk of people at
    once (``yfbz.policy.inputs.town_spans_by_person``)."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="town_spans", db_index=False)
    town = models.ForeignKey(Town, verbose_name="镇街", on_delete=models.PROTECT, related_name="+", db_index=False)
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("终止日期", null=True, blank=True)
    # db_default: rosters write spans with COPY and leave these columns out
    source = models.CharField("来源", max_length=12, choices=Identity.Source.choices, default=Identity.Source.ROSTER,
                              db_default=Identity.Source.ROSTER)
    source_ref = models.CharField("来源说明", max_length=120, blank=True, default="", db_default="")

    objects = ScopedManager()

    class Scoping:
        town = "person__town"
        department = "person__identities__category__department"

    class Meta:
        verbose_name = "人员所在镇街"
        verbose_name_plural = "人员所在镇街"
        ordering = ["person_id", "valid_from"]
        indexes = [models.Index(fields=["person", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="person_town_to_not_before_from",
            ),
            models.UniqueConstraint(fields=["person"], condition=models.Q(valid_to__isnull=True), name="person_town_one_open"),
        ]

    def __str__(self):
        return f"{self.town} {self.valid_from}～{self.valid_to or '至今'}"

    def covers(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class PersonAttribute(models.Model):
    """A person attribute the policy refers to, held between dates (D1: the settlement date decides):
    需院外维持治疗的重病患者 (渝北府办发〔2025〕2号 二(三)) certified from a date, so that a mid-year
    OUT_400 → OUT_700 is recorded.

    It changes eligibility, so one person proposes and another confirms (maker–checker): a span is
    PROPOSED by a district clerk and counts for the engine only once a district reviewer CONFIRMED
    it; ending a confirmed span is proposed the same way (ENDING, ``end_proposed``) and the span
    keeps counting with its old end until the end is confirmed. Moves through the one status
    mechanism (``MOVES``, ``yfbz.core.workflow.transition``, history ``PersonAttributeStatusChange``),
    called only by ``services.person_attribute_*``; confirmed spans of one attribute never overlap."""

    class Kind(models.TextChoices):
        NEEDS_MAINTENANCE = "needs_maintenance_treatment", "需院外维持治疗的重病患者"

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", "待复核"
        CONFIRMED = "CONFIRMED", "已确认"
        ENDING = "ENDING", "终止待复核"
        REJECTED = "REJECTED", "已退回"

    MOVES = {
        NEW: {Status.PROPOSED, Status.CONFIRMED},  # CONFIRMED at once only when migrated (two named staff)
        Status.PROPOSED: {Status.CONFIRMED, Status.REJECTED},
        Status.CONFIRMED: {Status.ENDING},
        Status.ENDING: {Status.CONFIRMED},
        Status.REJECTED: set(),
    }
    REASON_REQUIRED = {(Status.PROPOSED, Status.REJECTED)}
    #: the statuses in which a span counts for the engine (an end awaiting review keeps the old end)
    COUNTING = (Status.CONFIRMED, Status.ENDING)

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="attribute_spans")
    attribute = models.CharField("人员属性", max_length=60, choices=Kind.choices)
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("终止日期", null=True, blank=True)
    source = models.CharField("认定依据", max_length=200, help_text="如：区卫健委认定书编号、医院诊断证明")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PROPOSED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="复核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("复核时间", null=True, blank=True)
    end_proposed = models.DateField("拟终止日期", null=True, blank=True)
    end_source = models.CharField("终止依据", max_length=200, blank=True)
    end_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="终止登记人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("复核说明", blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"

    class Meta:
        verbose_name = "人员属性"
        verbose_name_plural = "人员属性"
        ordering = ["person_id", "attribute", "valid_from"]
        indexes = [models.Index(fields=["person", "attribute"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="person_attribute_to_not_before_from",
            )
        ]

    def __str__(self):
        return f"{self.get_attribute_display()} {self.valid_from}～{self.valid_to or '至今'}"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class PersonAttributeStatusChange(StatusHistory):
    """Append-only: every move of a person attribute span (yfbz.core.workflow)."""

    SUBJECT = "span"
    span = models.ForeignKey(PersonAttribute, verbose_name="人员属性", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "span__person__town"

    class Meta(StatusHistory.Meta):
        verbose_name = "人员属性状态记录"
        verbose_name_plural = "人员属性状态记录"


# --- monthly rosters ------------------------------------------------------------------------------
class RosterUpload(models.Model):
    """One monthly roster file from a certifying department, kept in the database (any host or worker
    reads it), moving uploaded → validated → town review → confirmed through `services.roster_set_status`."""

    class Mode(models.TextChoices):
        SNAPSHOT = "snapshot", "全量名单"
        DELTA = "delta", "增减名单"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传，待校验"
        VALIDATED = "validated", "已校验"
        TOWN_REVIEW = "town_review", "镇街审核中"
        CONFIRMING = "confirming", "确认中"
        CONFIRMED = "confirmed", "已确认"
        REJECTED = "rejected", "已退回"
        UNREADABLE = "unreadable", "无法读取"

    #: the allowed moves (yfbz.core.workflow.transition)
    MOVES = {
        NEW: {Status.UPLOADED},
        Status.UPLOADED: {Status.VALIDATED, Status.UNREADABLE, Status.REJECTED},
        Status.VALIDATED: {Status.TOWN_REVIEW, Status.CONFIRMING, Status.UPLOADED, Status.REJECTED},
        Status.TOWN_REVIEW: {Status.CONFIRMING, Status.UPLOADED, Status.REJECTED},
        Status.CONFIRMING: {Status.CONFIRMED},
        Status.CONFIRMED: set(),
        Status.REJECTED: set(),
        Status.UNREADABLE: set(),
    }
    REASON_REQUIRED = {(Status.VALIDATED, Status.REJECTED), (Status.TOWN_REVIEW, Status.REJECTED)}

    department = models.ForeignKey(Department, verbose_name="认定部门", on_delete=models.PROTECT, related_name="rosters")
    month = models.DateField("名单月份", help_text="该月第一天")
    mode = models.CharField("名单类型", max_length=10, choices=Mode.choices, default=Mode.SNAPSHOT)
    file_name = models.CharField("文件名", max_length=200)
    headers = models.JSONField("表头", default=list, blank=True, help_text="文件中的原始表头；各行的原始内容按此顺序保存")
    reading = models.JSONField(
        "读取情况", default=dict, blank=True, help_text="表头所在行、使用和未使用的列（yfbz.files.reader）"
    )
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.UPLOADED)
    file_size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交镇街审核时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    endings_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="终止人数二次确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField("说明", blank=True)
    # the summary of validation and comparison (ROSTERS.md)
    rows_total = models.PositiveIntegerField("行数", default=0)
    rows_valid = models.PositiveIntegerField("有效行", default=0)
    rows_invalid = models.PositiveIntegerField("无效行", default=0)
    count_new = models.PositiveIntegerField("新增", default=0)
    count_continuing = models.PositiveIntegerField("持续", default=0)
    count_changed = models.PositiveIntegerField("变更", default=0)
    count_ended = models.PositiveIntegerField("终止", default=0)
    previous_open = models.PositiveIntegerField("上月在册身份数", default=0)
    needs_endings_confirmation = models.BooleanField("终止人数超限，需二次确认", default=False)
    # the background job (Celery): the latest claimant's token wins; progress is committed as it goes
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_phase = models.CharField("任务阶段", max_length=40, blank=True)
    progress_done = models.PositiveIntegerField("已处理行数", default=0)
    progress_total = models.PositiveIntegerField("总行数", default=0)
    job_error = models.TextField("任务错误", blank=True)

    objects = ScopedManager()

    class Scoping:
        # town clerks reach an upload through the rows of their town (selectors.uploads_for)
        department = "department"

    class Meta:
        verbose_name = "身份名单"
        verbose_name_plural = "身份名单"
        ordering = ["-month", "-id"]
        indexes = [models.Index(fields=["department", "month", "status"])]

    def __str__(self):
        return f"{self.department.name} {self.month:%Y年%m月} {self.get_mode_display()}（{self.get_status_display()}）"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    def summary(self) -> dict:
        return {
            "rows": self.rows_total, "valid": self.rows_valid, "invalid": self.rows_invalid,
            "new": self.count_new, "continuing": self.count_continuing, "changed": self.count_changed,
            "ended": self.count_ended,
        }


@register_job
class RosterJob(models.Model):
    """One background job of a roster upload — its check (校验比对) or its apply (确认生效) — on the
    shared helper (yfbz.core.jobs): one worker at a time, a worker killed mid-way leaves it "运行已中断"
    and offered 重新运行 at once, a file that keeps killing workers is failed after 3 tries (no longer
    redelivered), any error fails it with the reason in Chinese. The upload's own status (已上传，待校验 /
    确认中) says what is left to do; the job says how the doing went. The work is idempotent: a job run
    again when nothing is left does nothing."""

    class Kind(models.TextChoices):
        CHECK = "check", "名单校验比对"
        APPLY = "apply", "名单确认生效"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "运行失败"

    upload = models.ForeignKey(RosterUpload, verbose_name="名单", on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField("任务", max_length=10, choices=Kind.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)
    error = models.TextField("失败原因", blank=True)
    created_at = models.DateTimeField("排队时间", auto_now_add=True)

    JOB = JobSpec(label="名单处理", task="beneficiaries.tasks.roster_job", queued=Status.QUEUED, running=Status.RUNNING,
                  done=Status.DONE, failed=Status.FAILED)
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    objects = ScopedManager()

    class Scoping:
        department = "upload__department"

    class Meta:
        verbose_name = "名单处理任务"
        verbose_name_plural = "名单处理任务"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_kind_display()}（名单{self.upload_id}）"

    def can_rerun_by(self, user) -> bool:
        """Whoever may act on the upload: its department's data officer, the district clerk, an administrator."""
        from . import services

        upload = self.upload
        return bool(user.is_superuser or services.can_upload(user, upload.department) or services.can_confirm(user, upload))


class RosterJobStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "job"
    job = models.ForeignKey(RosterJob, verbose_name="名单处理任务", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        department = "job__upload__department"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "名单处理任务状态记录"


class RosterFile(BytesDeferredModel, models.Model):
    """The bytes of an uploaded roster, in the database so any host or worker reads them; a row of
    its own so that the upload row (locked, saved and audited at every step) stays small."""

    upload = models.OneToOneField(RosterUpload, verbose_name="名单", on_delete=models.CASCADE, related_name="file")
    data = models.BinaryField("文件内容")

    objects = ScopedManager()

    class Scoping:
        department = "upload__department"

    class Meta:
        verbose_name = "名单文件"
        verbose_name_plural = "名单文件"
        base_manager_name = "objects"  # the bytes stay deferred behind a lazy foreign key (yfbz.core.bytes)

    def __str__(self):
        return self.upload.file_name


class RosterStatusChange(StatusHistory):
    """Append-only: every move of a roster upload, who made it, when and why (yfbz.core.workflow)."""

    SUBJECT = "upload"
    upload = models.ForeignKey(RosterUpload, verbose_name="名单", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        department = "upload__department"

    class Meta(StatusHistory.Meta):
        verbose_name = "名单状态记录"
        verbose_name_plural = "名单状态记录"


class RosterRow(models.Model):
    """One line of a roster (or one identity the roster ends), as read, normalised, checked and compared."""

    class Outcome(models.TextChoices):
        NEW = "new", "新增"
        CONTINUING = "continuing", "持续"
        CHANGED = "changed", "变更"
        ENDED = "ended", "终止"
        INVALID = "invalid", "无效"

    class Review(models.TextChoices):
        PENDING = "pending", "待审核"
        ACCEPTED = "accepted", "已接受"
        SENT_BACK = "sent_back", "已退回"
        OVERDUE = "overdue", "逾期未审核，按报送接受"

    # Foreign keys without their own index where a composite index below (or nothing) needs one:
    # a roster of 100,000 rows is written with COPY, and every index costs on every row. The references
    # the check fills in (category, town, person, identity) have no database constraint either: the
    # check takes them from the tables themselves in the same transaction, Django's PROTECT still
    # guards deletes, and PostgreSQL would otherwise check four foreign keys per row at commit (issue 14).
    # The upload too (issue 14, fifth round): 100,000 rows of one upload were 100,000 checks of that one
    # upload at the check's commit (~0.9 s at load 2.5). The rows are written only by the check, under
    # the lock of their upload, and an upload is never deleted once checked (its status history protects it).
    upload = models.ForeignKey(
        RosterUpload, verbose_name="名单", on_delete=models.CASCADE, related_name="rows", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField("行号", null=True, blank=True, help_text="表格中的行号（表头为第1行）；名单未列出而终止的身份为空")
    cells = models.JSONField("原始内容", default=list, help_text="各列原始内容，顺序同名单表头")
    id_number = models.CharField("公民身份号码", max_length=40, blank=True)
    name = models.CharField("姓名", max_length=50, blank=True)
    category = models.ForeignKey(
        Category, verbose_name="身份类别", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    town = models.ForeignKey(
        Town, verbose_name="所属镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    village = models.CharField("村（社区）", max_length=60, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    certified_on = models.DateField("认定日期", null=True, blank=True)
    exits_on = models.DateField("退出日期", null=True, blank=True)
    errors = models.JSONField("错误", default=list, blank=True)
    warnings = models.JSONField("提示", default=list, blank=True)
    outcome = models.CharField("比对结果", max_length=10, choices=Outcome.choices)
    person = models.ForeignKey(
        Person, verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    identity = models.ForeignKey(
        Identity, verbose_name="对应身份", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    review = models.CharField("镇街审核", max_length=10, choices=Review.choices, default=Review.PENDING)
    review_reason = models.TextField("退回原因", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        on = "upload__month"  # a row is dated by its roster's month: after a town leaves, its new district's
        department = "upload__department"

    class Meta:
        verbose_name = "名单行"
        verbose_name_plural = "名单行"
        ordering = ["upload_id", "row_number", "id"]
        indexes = [
            models.Index(fields=["upload", "row_number"]),
            # the rows with an error or a warning (the department's 错误和提示 file): a few among 650,000
            models.Index(fields=["upload", "row_number"], name="roster_row_issue",
                         condition=models.Q(row_number__isnull=False) & (models.Q(outcome="invalid") | ~models.Q(warnings=[]))),
            models.Index(fields=["upload", "town", "review"]),
        ]

    def __str__(self):
        return f"第{self.row_number}行 {self.name}" if self.row_number else f"终止 {self.name}"

    @property
    def messages_text(self) -> str:
        return "；".join(f"{m['field']}：{m['message']}" for m in (self.errors or []) + (self.warnings or []))


class RosterTownCount(models.Model):
    """One upload's rows of one town (or of no town), counted (issue 14): the roster page's figures per
    town, read from a few dozen rows instead of aggregating the upload's (0.42 s at 652,886 rows).
    Written by the check from the rows it stores, and kept exact by every review move in the same
    transaction, under the upload's lock (``beneficiaries.towncounts``). The outcome counts are of every
    row; the review counts of the rows a town reviews (every outcome but invalid)."""

    upload = models.ForeignKey(RosterUpload, verbose_name="名单", on_delete=models.CASCADE, related_name="+", db_index=False)
    town = models.ForeignKey(
        Town, verbose_name="所属镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    listed = models.PositiveIntegerField("行数", default=0, help_text="表格中的行（名单未列出而终止的身份不计）")
    invalid = models.PositiveIntegerField("无效", default=0)
    new = models.PositiveIntegerField("新增", default=0)
    continuing = models.PositiveIntegerField("持续", default=0)
    changed = models.PositiveIntegerField("变更", default=0)
    ended = models.PositiveIntegerField("终止", default=0)
    pending = models.PositiveIntegerField("待审核", default=0)
    accepted = models.PositiveIntegerField("已接受", default=0)
    sent_back = models.PositiveIntegerField("已退回", default=0)
    overdue = models.PositiveIntegerField("逾期未审核，按报送接受", default=0)

    objects = ScopedManager()

    class Scoping:  # exactly as the rows it counts: a clerk sees the counts of the rows they see
        town = "town"
        on = "upload__month"
        department = "upload__department"

    class Meta:
        verbose_name = "名单各镇街行数"
        verbose_name_plural = "名单各镇街行数"
        constraints = [
            # the first is also the page's index (every row of an upload, in town order); the second keeps
            # one row of no town (NULLs are distinct in the first)
            models.UniqueConstraint(fields=["upload", "town"], name="roster_town_count_town"),
            models.UniqueConstraint(fields=["upload"], condition=models.Q(town__isnull=True), name="roster_town_count_no_town"),
        ]

    def __str__(self):
        return f"{self.upload_id} {self.town_id or '无镇街'}"

    @property
    def reviewable(self) -> int:
        return self.new + self.continuing + self.changed + self.ended


class RetroactiveChange(models.Model):
    """A confirmed roster changed a person's identity for a period already past — up to the day the
    roster took effect — so decisions made in that period may be wrong (应退尽退、应补尽补).

    When the roster is applied, the apps that hold decisions measure what each change reaches
    (``beneficiaries.retro``): current hand-bill decisions and one-stop settlement lines in the
    period. A change that reaches nothing is closed by the system and says so; the others wait for
    staff: re-decided (REDECIDING) and reviewed once every re-decision is approved (REVIEWED), or
    closed with a written reason. Every move goes through ``services.retroactive_change_set_status``
    and appends a ``RetroactiveChangeStatusChange`` row."""

    class Kind(models.TextChoices):
        ENDED_EARLIER = "ENDED_EARLIER", "身份提前终止"
        STARTED_EARLIER = "STARTED_EARLIER", "身份追溯起始"
        CORRECTED = "CORRECTED", "身份期间更正"

    class Status(models.TextChoices):
        OPEN = "OPEN", "待处理"
        REDECIDING = "REDECIDING", "已重新核定，待审批"
        REVIEWED = "REVIEWED", "已复核"
        AUTO_CLOSED = "AUTO_CLOSED", "未涉及救助决定（系统关闭）"
        CLOSED = "CLOSED", "已关闭"

    #: the statuses in which a change waits for staff
    WAITING = (Status.OPEN, Status.REDECIDING)
    MOVES = {
        NEW: {Status.OPEN},
        Status.OPEN: {Status.REDECIDING, Status.REVIEWED, Status.AUTO_CLOSED, Status.CLOSED},
        Status.REDECIDING: {Status.REVIEWED},
        Status.REVIEWED: set(),
        Status.AUTO_CLOSED: set(),  # decisions made after the roster took effect already use its identities
        Status.CLOSED: set(),
    }
    REASON_REQUIRED = {(Status.OPEN, Status.CLOSED), (Status.OPEN, Status.AUTO_CLOSED)}

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="retroactive_changes")
    category = models.ForeignKey(Category, verbose_name="身份类别", on_delete=models.PROTECT, related_name="+")
    identity = models.ForeignKey(Identity, verbose_name="身份", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField("影响期间起")
    period_end = models.DateField("影响期间止", help_text="名单生效（确认）之日")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    # what changed the identity for a past period: a confirmed roster, or a confirmed correction outside one
    roster_upload = models.ForeignKey(RosterUpload, verbose_name="名单", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="retroactive_changes")
    correction = models.ForeignKey("IdentityCorrection", verbose_name="名单外身份更正", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="retroactive_changes")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    # db_default: rosters write changes with COPY and leave these columns out
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.OPEN, db_default=Status.OPEN)
    measured_at = models.DateTimeField("核查时间", null=True, blank=True, help_text="核查涉及的救助决定的时间；空＝尚未核查")
    decisions_reached = models.PositiveIntegerField("涉及手工报销核定", default=0, db_default=0)
    lines_reached = models.PositiveIntegerField("涉及一站式结算", default=0, db_default=0)
    amount_reached = models.DecimalField("涉及已核定金额", max_digits=14, decimal_places=2, default=0, db_default=0)
    amount_estimate = models.DecimalField(
        "预计差额", max_digits=14, decimal_places=2, default=0, db_default=0,
        help_text="按现有身份逐份试算的差额合计：负数为预计追回，正数为预计补发",
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="复核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField("复核说明", blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"
        department = "category__department"

    class Meta:
        verbose_name = "追溯身份变化"
        verbose_name_plural = "追溯身份变化"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "period_start"]), models.Index(fields=["status", "roster_upload"])]
        constraints = [
            models.CheckConstraint(
                name="retro_change_one_source",
                condition=(models.Q(roster_upload__isnull=False, correction__isnull=True)
                           | models.Q(roster_upload__isnull=True, correction__isnull=False)),
            ),
        ]

    def __str__(self):
        return f"{self.person.name} {self.category.name} {self.get_kind_display()} {self.period_start}～{self.period_end}"

    @property
    def source_text(self) -> str:
        """What made the change, in words: 民政局2026年4月名单 / 身份更正12号（渝北民函〔2026〕9号）."""
        if self.roster_upload_id:
            return f"{self.roster_upload.department.name}{self.roster_upload.month:%Y年%m月}名单"
        return self.correction.ref

    @property
    def waiting(self) -> bool:
        return self.status in self.WAITING

    @property
    def reaches_anything(self) -> bool:
        return bool(self.decisions_reached or self.lines_reached)


class RetroactiveChangeStatusChange(StatusHistory):
    """Append-only: every move of a retroactive change (yfbz.core.workflow); ``by`` empty is the system."""

    SUBJECT = "change"
    change = models.ForeignKey(RetroactiveChange, verbose_name="追溯变化", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "change__person__town"
        department = "change__category__department"

    class Meta(StatusHistory.Meta):
        verbose_name = "追溯变化处理记录"
        verbose_name_plural = "追溯变化处理记录"


class BenchImportRow(models.Model):
    """For bench/rosters.py only: the bare model the django-import-export baseline imports into.
    Holds no real data (the benchmark empties it); no screen shows it."""

    id_number = models.CharField(max_length=18)
    name = models.CharField(max_length=50)
    category = models.CharField(max_length=80)
    town = models.CharField(max_length=30)
    certified_on = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = "性能测试用表"
        verbose_name_plural = "性能测试用表"

    def __str__(self):
        return self.id_number


# --- identity corrections outside a roster ----------------------------------------------------------
class IdentityCorrection(models.Model):
    """An identity started or ended outside the monthly roster (a department's mistake that cannot wait
    a month, an identity granted on appeal): proposed by a district clerk with a reason and a document
    reference, confirmed or rejected by a district reviewer who did not propose it (maker ≠ checker).
    Only a confirmed correction changes identities (``beneficiaries.corrections``): a started identity
    has ``source = CORRECTION`` and ``source_ref`` naming this correction; an ended one keeps its
    source and gets the end date. Moves through the one status mechanism (``MOVES``)."""

    class Action(models.TextChoices):
        START = "START", "新增身份"
        END = "END", "终止身份"

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", "待确认"
        CONFIRMED = "CONFIRMED", "已确认生效"
        REJECTED = "REJECTED", "已退回"

    MOVES = {
        NEW: {Status.PROPOSED},
        Status.PROPOSED: {Status.CONFIRMED, Status.REJECTED},
        Status.CONFIRMED: set(),
        Status.REJECTED: set(),
    }
    REASON_REQUIRED = {(Status.PROPOSED, Status.REJECTED)}

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="identity_corrections")
    action = models.CharField("更正内容", max_length=5, choices=Action.choices)
    category = models.ForeignKey(Category, verbose_name="身份类别", on_delete=models.PROTECT, related_name="+")
    identity = models.ForeignKey(
        Identity, verbose_name="身份", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections",
        help_text="新增：确认后生成的身份；终止：被终止的身份",
    )
    valid_from = models.DateField("起始日期", null=True, blank=True)
    valid_to = models.DateField("终止日期", null=True, blank=True)
    reason = models.TextField("更正原因")
    document_ref = models.CharField("依据文件", max_length=120, help_text="部门更正函、复议决定书等的文号")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提出人", on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField("提出时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    decision_note = models.TextField("确认说明", blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"
        department = "category__department"

    class Meta:
        verbose_name = "名单外身份更正"
        verbose_name_plural = "名单外身份更正"
        ordering = ["-proposed_at", "-id"]

    def __str__(self):
        return f"身份更正{self.pk}号 {self.person.name} {self.get_action_display()} {self.category.name}"

    @property
    def ref(self) -> str:
        """What the identity's ``source_ref`` says: 身份更正12号（民政更正函〔2026〕3号）."""
        return f"身份更正{self.pk}号（{self.document_ref}）"[:120]


class IdentityCorrectionStatusChange(StatusHistory):
    """Append-only: every move of an identity correction (yfbz.core.workflow)."""

    SUBJECT = "correction"
    correction = models.ForeignKey(IdentityCorrection, verbose_name="身份更正", on_delete=models.PROTECT,
                                   related_name="status_changes")

    class Scoping:
        town = "correction__person__town"
        department = "correction__category__department"

    class Meta(StatusHistory.Meta):
        verbose_name = "身份更正状态记录"
        verbose_name_plural = "身份更正状态记录"
