"""The Excel ticket register (运维工单登记表) for companies without a ticket tool.

``write_template`` writes the blank workbook from ``mappings/excel_template.yml``, the one
definition of its layout: the data sheet and its headers in mapping order, a drop-down
list per value map (its keys are the choices), date-time formats for timestamp columns,
and a 填写说明 sheet with one row per column. What the mapping cannot say (whether a
column is required, what it means) is in ``FIELD_NOTES``, keyed by canonical field, so a
column added to the mapping without a note fails loudly instead of shipping undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from itss_warehouse.ingest.sources import Source, load_sources
from itss_warehouse.reports.xlsx import display_width, first_sheet, keep_as_text, workbook_bytes
from itss_warehouse.settings import PACKAGE_DIR

TEMPLATE_MAPPING = PACKAGE_DIR / "mappings" / "excel_template.yml"
INSTRUCTIONS_SHEET = "填写说明"
INSTRUCTION_HEADERS = ("字段", "是否必填", "格式/可选值", "说明")
# Fixed document and zip timestamps: the same template gives the same bytes.
STAMP = datetime(2026, 1, 1)
LAST_ROW = 1_048_576  # drop-downs and formats cover the whole column below the header
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATETIME_EXAMPLE = "2026-11-21 09:05"

Requirement = Literal["是", "否", "条件必填"]
HEADER_FILLS: dict[str, str] = {"是": "C00000", "条件必填": "C65911", "否": "1F4E78"}


@dataclass(frozen=True)
class FieldNote:
    required: Requirement
    description: str
    format: str | None = None  # shown instead of the format derived from the mapping
    cell_format: str | None = None  # Excel number format of the column ("@" = text)


FIELD_NOTES: dict[str, FieldNote] = {
    "ticket_id": FieldNote(
        "是", "工单的唯一编号，如 YW-2026-0001；同一工单始终使用同一编号，不同工单不可重复。", cell_format="@"
    ),
    "ticket_type": FieldNote(
        "是",
        "事件：故障或服务中断；服务请求：咨询、账号开通等标准服务；问题：查找事件的根本原因；变更、发布：对系统的改动及上线。",
    ),
    "project_id": FieldNote(
        "是",
        "工单所属运维项目的编号，须与项目台账中的项目编号完全一致，否则无法匹配服务级别协议（SLA）。",
        cell_format="@",
    ),
    "priority": FieldNote("是", "按项目 SLA 约定的优先级定义判定，决定响应、到场和解决时限。"),
    "category": FieldNote("否", "服务分类，如 网络、服务器、桌面终端、应用系统，供统计分析使用。", format="文本"),
    "opened_at": FieldNote("是", "客户报障或提出请求的时间，是 SLA 计时的起点。"),
    "responded_at": FieldNote(
        "条件必填", "事件、服务请求必填：首次响应客户的时间（电话回复、接单等）；不填则按响应超时统计。"
    ),
    "onsite_arrived_at": FieldNote("条件必填", "服务方式为“现场”时必填：工程师到达现场的时间。"),
    "resolved_at": FieldNote("条件必填", "状态为“已解决”或“已关闭”时必填：服务恢复或请求完成的时间。"),
    "closed_at": FieldNote("条件必填", "状态为“已关闭”时必填：客户确认后关闭工单的时间。"),
    "status": FieldNote("是", "工单当前状态；状态变化时直接修改本行，并同时更新“更新时间”。"),
    "assignee": FieldNote("否", "当前处理人姓名。", format="文本"),
    "assignment_group": FieldNote("否", "当前处理组或班组，如 一线服务台、网络组。", format="文本"),
    "reassignment_count": FieldNote("否", "工单在处理人或处理组之间转派的次数，未转派填 0。", format="非负整数，如 0"),
    "reopen_count": FieldNote("否", "工单解决后又被重新打开的次数，未重开填 0。", format="非负整数，如 0"),
    "is_major": FieldNote("否", "是否为重大事件（按合同或应急预案的定义）；不填视为“否”。"),
    "delivery_mode": FieldNote("条件必填", "需要到现场处理的填“现场”，其余填“远程”；现场工单考核到场时限。"),
    "outcome": FieldNote("条件必填", "变更、发布工单完成后必填：实施结果。"),
    "related_problem_id": FieldNote(
        "否", "事件关联的问题工单编号（如有），须为本表中问题工单的工单编号。", format="文本", cell_format="@"
    ),
    "updated_at": FieldNote(
        "否", "本行最后修改的时间；同一工单出现在多个文件中时，以更新时间最新的一行为准，建议每次修改都填写。"
    ),
}

THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FONT = Font(bold=True, color="FFFFFF")
WRAP = Alignment(wrap_text=True, vertical="top")


def template_source(mapping: Path = TEMPLATE_MAPPING) -> tuple[Source, str]:
    """The template's source definition and the time zone its times are read in."""
    definitions = load_sources(mapping)
    if len(definitions.sources) != 1 or not definitions.sources[0].sheet:
        raise ValueError(f"{mapping}: the template mapping needs exactly one source with a sheet")
    source = definitions.sources[0]
    return source, source.timezone or definitions.timezone


def template_file_name(source: Source) -> str:
    """The published file name: the pattern's fixed prefix, e.g. 运维工单登记表.xlsx."""
    return source.pattern.split("*")[0] + Path(source.pattern).suffix


def write_template(path: Path, mapping: Path = TEMPLATE_MAPPING) -> Path:
    """Write the blank template to ``path`` (a file, or a folder to write the published name into)."""
    source, timezone = template_source(mapping)
    if path.is_dir():
        path = path / template_file_name(source)
    notes = _notes(source)
    workbook = Workbook()
    _data_sheet(workbook, source, notes)
    _instructions_sheet(workbook, source, notes, timezone)
    workbook.properties.title = "运维工单登记表"
    workbook.properties.creator = "itss-warehouse"
    path.write_bytes(workbook_bytes(workbook, STAMP))
    return path


def _notes(source: Source) -> dict[str, FieldNote]:
    missing = [field for field in source.fields if field not in FIELD_NOTES]
    if missing:
        raise ValueError(f"excel_template.py has no FIELD_NOTES for mapped field(s): {', '.join(missing)}")
    return {field: FIELD_NOTES[field] for field in source.fields}


def _format_text(source: Source, field: str, note: FieldNote) -> str:
    if field in source.values:
        return "下拉选择：" + "、".join(source.values[field])
    if field in source.timestamps:
        return f"日期时间，如 {DATETIME_EXAMPLE}"
    if field in source.dates:
        return f"日期，如 {DATETIME_EXAMPLE.split()[0]}"
    return note.format or "文本"


def _data_sheet(workbook: Workbook, source: Source, notes: dict[str, FieldNote]) -> None:
    sheet = first_sheet(workbook)
    assert source.sheet, "template_source requires the source's sheet"
    sheet.title = source.sheet
    sheet.append(list(source.columns))
    keep_as_text(sheet[1])
    for index, (header, field) in enumerate(source.columns.items(), start=1):
        letter = get_column_letter(index)
        note = notes[field]
        cell = sheet.cell(row=1, column=index)
        cell.font = HEADER_FONT
        cell.fill = PatternFill("solid", fgColor=HEADER_FILLS[note.required])
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = BORDER
        widths = [display_width(header) + 4, 10]
        column = sheet.column_dimensions[letter]
        if field in source.timestamps:
            column.number_format = DATETIME_FORMAT
            widths.append(display_width(DATETIME_EXAMPLE) + 2)
        elif note.cell_format:
            column.number_format = note.cell_format
        if field in source.values:
            choices = list(source.values[field])
            widths.append(max(display_width(choice) for choice in choices) + 4)
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="无效的值",
                error=f"{header}请从下拉列表中选择：" + "、".join(choices),
                promptTitle=header,
                prompt="请从下拉列表中选择",
            )
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
        column.width = max(widths)
    sheet.row_dimensions[1].height = 22
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(source.columns))}1"


def _instructions_sheet(workbook: Workbook, source: Source, notes: dict[str, FieldNote], timezone: str) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET)
    sheet.append(list(INSTRUCTION_HEADERS))
    for header, field in source.columns.items():
        note = notes[field]
        sheet.append([header, note.required, _format_text(source, field, note), note.description])
        keep_as_text(sheet[sheet.max_row])
    for cell in sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = PatternFill("solid", fgColor=HEADER_FILLS["否"])
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in sheet.iter_rows(min_row=2, max_row=sheet.max_row):
        for cell in row:
            cell.alignment = WRAP
            cell.border = BORDER
    zone = "北京时间（Asia/Shanghai）" if timezone == "Asia/Shanghai" else f"时区 {timezone} 的当地时间"
    blanks = "、".join(f"“{marker}”" for marker in source.null_markers if marker)
    prefix = template_file_name(source).removesuffix(Path(source.pattern).suffix)
    general = [
        f"1. 请勿修改“{source.sheet}”工作表的名称和第一行表头，也不要删除列；"
        "系统按表头名称读取各列，缺少任一列整个文件都无法导入。",
        "2. 红色表头为必填列；橙色表头为条件必填列，何时必填见该列说明；蓝色表头为选填列。",
        "3. 每张工单填写一行，工单编号不可重复；处理过程中直接修改该行，并同时更新“更新时间”。",
        f"4. 日期时间按“年-月-日 时:分”填写，如 {DATETIME_EXAMPLE}，均为{zone}。",
        "5. 带下拉列表的列请从列表中选择，不要输入其他写法；"
        + (f"空白单元格或填写{blanks}均视为未填写。" if blanks else "不适用的单元格请留空。"),
        f"6. 文件保存为 .xlsx 格式，文件名以“{prefix}”开头（如 {prefix}_2026-11.xlsx），放入数据接收目录。",
    ]
    sheet.append([])
    sheet.append(["填写要求"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    for line in general:
        sheet.append([line])
    for letter, width in zip("ABCD", (14, 10, 34, 70), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
