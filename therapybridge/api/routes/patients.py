"""A therapist's patients (admins see everyone's): add, list, read, edit, delete.

Deleting a patient who still has sessions is refused (409): the sessions hold the recordings,
transcripts and notes, and deleting them is a separate, explicit act per session (DELETE
/api/sessions/{id} purges each one). A patient without sessions is deleted for good."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlmodel import col, func, select

from therapybridge.api.deps import CurrentUser, SessionDep, own_patient
from therapybridge.api.models import Message, PatientCreate, PatientList, PatientPublic, PatientUpdate
from therapybridge.api.routes.audit import record
from therapybridge.db import Patient, SessionRecord

router = APIRouter(prefix="/api/patients", tags=["patients"])


@router.post("", response_model=PatientPublic, status_code=201, responses={401: {"model": Message}})
async def create_patient(body: PatientCreate, user: CurrentUser, db: SessionDep) -> Patient:
    patient = Patient(
        therapist_id=user.id,
        name=body.name,
        date_of_birth=body.date_of_birth.isoformat() if body.date_of_birth else None,
        external_id=body.external_id,
    )
    db.add(patient)
    await db.commit()
    return patient


@router.get("", response_model=PatientList, responses={401: {"model": Message}})
async def list_patients(
    user: CurrentUser,
    db: SessionDep,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> PatientList:
    mine = [] if user.role == "admin" else [col(Patient.therapist_id) == user.id]
    total = (await db.exec(select(func.count()).select_from(Patient).where(*mine))).one()
    query = select(Patient).where(*mine).order_by(col(Patient.name), col(Patient.id)).offset(offset).limit(limit)
    rows = (await db.exec(query)).all()
    await record(db, user, "patient.list")
    return PatientList(data=[PatientPublic.model_validate(p) for p in rows], count=total)


@router.get("/{patient_id}", response_model=PatientPublic, responses={401: {"model": Message}, 404: {"model": Message}})
async def get_patient(patient_id: str, user: CurrentUser, db: SessionDep) -> Patient:
    patient = await own_patient(db, user, patient_id)
    await record(db, user, "patient.read", patient_id=patient.id)
    return patient


ERRORS: dict[int | str, dict[str, object]] = {401: {"model": Message}, 404: {"model": Message}}


@router.patch("/{patient_id}", response_model=PatientPublic, responses=ERRORS)
async def update_patient(patient_id: str, body: PatientUpdate, user: CurrentUser, db: SessionDep) -> Patient:
    """Change a patient's name, date of birth or record ID; their sessions are unaffected."""
    patient = await own_patient(db, user, patient_id)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes:
        patient.name = changes["name"]
    if "date_of_birth" in changes:
        patient.date_of_birth = body.date_of_birth.isoformat() if body.date_of_birth else None
    if "external_id" in changes:
        patient.external_id = body.external_id
    db.add(patient)
    await record(db, user, "patient.update", patient_id=patient.id)  # commits the change with its audit event
    await db.refresh(patient)
    return patient


@router.delete(
    "/{patient_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ERRORS, 409: {"model": Message, "description": "The patient still has sessions."}},
)
async def delete_patient(patient_id: str, user: CurrentUser, db: SessionDep) -> Response:
    """Delete a patient who has no sessions. With sessions: 409, saying how many; delete those first
    (each deletion purges the session's recording, transcript, notes and workflow history)."""
    patient = await own_patient(db, user, patient_id)
    query = select(func.count()).select_from(SessionRecord).where(col(SessionRecord.patient_id) == patient.id)
    sessions = int((await db.exec(query)).one())
    if sessions:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"this patient still has {sessions} session{'s' if sessions != 1 else ''}; delete "
            f"{'them' if sessions != 1 else 'it'} first (that removes the recordings, transcripts and notes)",
        )
    await db.delete(patient)
    await record(db, user, "patient.delete", patient_id=patient_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
